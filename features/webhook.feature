@webhook
Feature: Webhook endpoints and event delivery
  Every party registers endpoints for the ecosystem's events (docs/components/06,
  reference/webhooks.v1.json). An endpoint is its creator's alone. Events reach the endpoints
  subscribed to them and entitled to them, once, as a webhook.payload.v1 body signed with the
  endpoint's secret (X-Operator-Signature: sha256=<HMAC-SHA256 hex>); a 5xx answer is retried
  3 times, then the event is given up. The suite receives the events itself.

  @critical
  Scenario Outline: <role> creates, reads, updates, lists and deletes its webhook endpoint
    Given I am "<role>"
    When I create a webhook endpoint for "root.cert.added, root.cert.revoked"
    Then the status is 201
    And the body is a valid "WebhookEndpointCreated"
    And the body shows the new endpoint with its signing secret
    When I read that endpoint
    Then the status is 200
    And the body is a valid "WebhookEndpoint"
    And the body is that endpoint, its secret if shown the one given on create
    When I update that endpoint to status "disabled" and events "root.cert.expired"
    Then the status is 200
    And the body is a valid "WebhookEndpoint"
    And the body shows status "disabled" and events "root.cert.expired"
    When I list my webhook endpoints
    Then the status is 200
    And the body is a valid "WebhookEndpointList"
    And that endpoint is listed, its secret if shown the one given on create
    When I read the delivery log of that endpoint
    Then the status is 200
    And the body is a valid "WebhookDeliveries"
    When I delete that endpoint
    Then the status is 200
    When I read that endpoint
    Then the status is 404
    And the body is the spec's Error with a traceId
    When I list my webhook endpoints
    Then the status is 200
    And the deleted endpoint is no longer listed

    Examples:
      | role   |
      | OEM    |
      | CPO    |
      | MO     |
      | MO_V2G |
      | CPS    |

  # Erratum E-WH-4: an endpoint is its creator's; another party is refused with 403 or 404
  # (the reference answers 404; conformant variant webhook-foreign-endpoint-403).
  @blocker
  Scenario Outline: A <role> endpoint is hidden from the other <role>
    Given I am the first "<role>"
    And I have created a webhook endpoint
    And I am the second "<role>"
    When I list my webhook endpoints
    Then the status is 200
    And that endpoint is not listed
    When I read that endpoint
    Then the status is one of 403, 404
    And the body is the spec's Error with a traceId
    When I update that endpoint to status "disabled" and events "root.cert.expired"
    Then the status is one of 403, 404
    When I read the delivery log of that endpoint
    Then the status is one of 403, 404
    When I delete that endpoint
    Then the status is one of 403, 404
    And that endpoint is unchanged

    Examples:
      | role |
      | OEM  |
      | MO   |
      | CPO  |

  @critical
  Scenario Outline: A new endpoint with <case> is refused
    Given I am "CPS"
    And I remember how many webhook endpoints I have
    When I create a webhook endpoint with <case>
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "<field>"
    And I have as many webhook endpoints as before

    Examples:
      | case                       | field         |
      | an unknown event type      | enabledEvents |
      | no event types             | enabledEvents |
      | no enabledEvents           | enabledEvents |
      | events that are not a list | enabledEvents |
      | no url                     | url           |
      | an ftp url                 | url           |
      | a relative url             | url           |
      | status "paused"            | status        |
      | metadata that is a list    | metadata      |
      | a body that is not JSON    | body          |

  @normal
  Scenario Outline: An update with <case> is refused and changes nothing
    Given I am "MO_V2G"
    And I have created a webhook endpoint
    When I update that endpoint with <case>
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "<field>"
    And that endpoint is unchanged

    Examples:
      | case                  | field         |
      | an unknown event type | enabledEvents |
      | no url                | url           |
      | an ftp url            | url           |
      | status "paused"       | status        |

  @blocker
  Scenario: root.cert.added reaches each subscriber once, signed, and nobody else
    Given "OEM" has a webhook endpoint "oem" for "root.cert.added"
    And "MO" has a webhook endpoint "mo" for "root.cert.added, root.cert.revoked"
    And "CPO" has a webhook endpoint "cpo" for "root.cert.revoked, root.cert.expired"
    When the operator adds a fresh "V2G" root
    Then endpoint "oem" receives exactly one "root.cert.added" event about that root
    And endpoint "mo" receives exactly one "root.cert.added" event about that root
    And endpoint "cpo" receives nothing about that root
    And the event endpoint "oem" received is signed with its secret
    And the event endpoint "mo" received is signed with its secret
    And the event endpoint "oem" received is a valid "WebhookPayload" describing that root

  @critical
  Scenario: Deleting a root raises root.cert.revoked for its subscribers only
    Given the pool holds a fresh "MO" root added by the operator
    And "CPS" has a webhook endpoint "cps" for "root.cert.revoked"
    And "MO_V2G" has a webhook endpoint "mov2g" for "root.cert.added, root.cert.expired"
    When the operator deletes that root
    Then the status is 200
    And endpoint "cps" receives exactly one "root.cert.revoked" event about that root
    And endpoint "mov2g" receives nothing about that root
    And the event endpoint "cps" received is signed with its secret
    And the event endpoint "cps" received is a valid "WebhookPayload" describing that root

  @critical
  Scenario: A root that runs out raises root.cert.expired once
    Given "OEM" has a webhook endpoint "oem" for "root.cert.expired"
    And the second "OEM" has a webhook endpoint "other" for "root.cert.revoked"
    When the operator adds a root that expires in 5 seconds
    Then endpoint "oem" receives exactly one "root.cert.expired" event about that root
    And endpoint "other" receives nothing about that root
    And the event endpoint "oem" received is a valid "WebhookPayload" describing that root

  @critical
  Scenario: A disabled endpoint receives nothing
    Given "MO" has a webhook endpoint "on" for "root.cert.added"
    And "MO" has a disabled webhook endpoint "off" for "root.cert.added"
    When the operator adds a fresh "OEM" root
    Then endpoint "on" receives exactly one "root.cert.added" event about that root
    And endpoint "off" receives nothing about that root

  @critical
  Scenario: A delivery answered with 5xx is retried until it is accepted
    Given the target retries failed deliveries within seconds
    And "CPS" has a webhook endpoint "flaky" for "root.cert.added"
    And the receiver answers 503 to the next 2 deliveries to endpoint "flaky"
    When the operator adds a fresh "V2G" root
    Then endpoint "flaky" receives exactly one "root.cert.added" event about that root
    And endpoint "flaky" was called 3 times about that root
    And the delivery log of endpoint "flaky" shows the "root.cert.added" event delivered after 3 attempts

  @normal
  Scenario: A delivery still failing after 3 retries is given up
    Given the target retries failed deliveries within seconds
    And "CPO" has a webhook endpoint "down" for "root.cert.added"
    And the receiver answers 500 to the next 100 deliveries to endpoint "down"
    When the operator adds a fresh "MO" root
    Then the delivery log of endpoint "down" shows the "root.cert.added" event failed after 4 attempts
    And endpoint "down" was called 4 times about that root

  # webhook.payload.v1.json, the PCID EMAID payload: contractCert, cpsSignerRootFingerprint,
  # cpsSignerRootCommonName (optional; where present, they describe the contract).
  @blocker
  Scenario: A new contract is told to the OEM of its WMI, then to its MO once the OEM accepted it
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "OEM" has a webhook endpoint "oem" for "oem.contract.created, oem.contract.updated, oem.contract.deleted"
    And the second "OEM" has a webhook endpoint "other-oem" for "oem.contract.created"
    And "MO" has a webhook endpoint "mo" for "mo.contract.created.sent.to.oem, mo.contract.queued.to.oem, mo.contract.rejected.by.oem"
    And the second "MO" has a webhook endpoint "other-mo" for "mo.contract.created.sent.to.oem"
    And the MO signed 1 contracts for the vehicle
    Then endpoint "oem" receives exactly one "oem.contract.created" event about that contract
    And the event endpoint "oem" received is a valid "WebhookPayload" describing that contract
    And the event endpoint "oem" received names the contract's certificate and its CPS signer's V2G root where it carries them
    And the event endpoint "oem" received is signed with its secret
    And endpoint "mo" receives exactly one "mo.contract.created.sent.to.oem" event about that contract
    And the event endpoint "mo" received is a valid "WebhookPayload" describing that contract
    And endpoint "mo" heard it after endpoint "oem" accepted its event
    And endpoint "mo" received nothing else about that contract
    And endpoint "other-oem" receives nothing about that contract
    And endpoint "other-mo" receives nothing about that contract

  @critical
  Scenario: Updating and deleting a contract are told to the OEM, then to the MO
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "OEM" has a webhook endpoint "oem" for "oem.contract.updated, oem.contract.deleted"
    And "MO" has a webhook endpoint "mo" for "mo.contract.updated.sent.to.oem, mo.contract.deleted.sent.to.oem"
    And the MO signed 1 contracts for the vehicle
    When the MO signs that contract again
    Then the status is 201
    And endpoint "oem" receives exactly one "oem.contract.updated" event about that contract
    And endpoint "mo" receives exactly one "mo.contract.updated.sent.to.oem" event about that contract
    Given I am "MO"
    When I delete the first contract
    Then the status is 200
    And endpoint "oem" receives exactly one "oem.contract.deleted" event about that contract
    And endpoint "mo" receives exactly one "mo.contract.deleted.sent.to.oem" event about that contract
    And endpoint "mo" received nothing else about that contract
    And endpoint "oem" received nothing else about that contract

  @critical
  Scenario: An OEM's 409 ends the action and its MO hears the contract was rejected
    Given the target retries failed deliveries within seconds
    And the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "OEM" has a webhook endpoint "oem" for "oem.contract.created"
    And "MO" has a webhook endpoint "mo" for "mo.contract.created.sent.to.oem, mo.contract.queued.to.oem, mo.contract.rejected.by.oem"
    And the receiver answers 409 to the next 1 deliveries to endpoint "oem"
    And the MO signed 1 contracts for the vehicle
    Then endpoint "mo" receives exactly one "mo.contract.rejected.by.oem" event about that contract
    And endpoint "mo" received nothing else about that contract
    And endpoint "oem" was called 1 times about that contract

  @critical
  Scenario: An OEM that answers 503 gets retries, its MO hears queued, then sent
    Given the target retries failed deliveries within seconds
    And the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "OEM" has a webhook endpoint "oem" for "oem.contract.created"
    And "MO" has a webhook endpoint "mo" for "mo.contract.created.sent.to.oem, mo.contract.queued.to.oem, mo.contract.rejected.by.oem"
    And the receiver answers 503 to the next 2 deliveries to endpoint "oem"
    And the MO signed 1 contracts for the vehicle
    Then endpoint "oem" receives exactly one "oem.contract.created" event about that contract
    And endpoint "mo" receives exactly one "mo.contract.queued.to.oem" event about that contract
    And endpoint "mo" receives exactly one "mo.contract.created.sent.to.oem" event about that contract
    And endpoint "mo" received nothing else about that contract
    And endpoint "oem" was called 3 times about that contract

  @normal
  Scenario: An OEM that never accepts: its MO hears queued, then rejected when the retries are spent
    Given the target retries failed deliveries within seconds
    And the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "OEM" has a webhook endpoint "oem" for "oem.contract.created"
    And "MO" has a webhook endpoint "mo" for "mo.contract.created.sent.to.oem, mo.contract.queued.to.oem, mo.contract.rejected.by.oem"
    And the receiver answers 500 to the next 100 deliveries to endpoint "oem"
    And the MO signed 1 contracts for the vehicle
    Then endpoint "mo" receives exactly one "mo.contract.queued.to.oem" event about that contract
    And endpoint "mo" receives exactly one "mo.contract.rejected.by.oem" event about that contract
    And endpoint "mo" received nothing else about that contract
    And endpoint "oem" was called 4 times about that contract

  @critical
  Scenario: The OEM's pull and the vehicle's installation each tell the MO the contract was delivered
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "MO" has a webhook endpoint "mo" for "mo.contract.delivered.to.oem"
    And the second "MO" has a webhook endpoint "other-mo" for "mo.contract.delivered.to.oem"
    And the MO signed 1 contracts for the vehicle
    And I am "OEM"
    When I pull the first contract
    Then the status is 200
    And endpoint "mo" receives exactly one "mo.contract.delivered.to.oem" event about that contract
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And endpoint "mo" receives exactly two "mo.contract.delivered.to.oem" events about that contract
    And endpoint "other-mo" receives nothing about that contract

  @critical @rule:WH-FACTORY-RESET
  Scenario: The OEM depublishing a vehicle tells the MO of each contract and the OEM
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "OEM" has a webhook endpoint "oem" for "oem.contract.deleted"
    And "MO" has a webhook endpoint "mo" for "mo.prov.cert.deleted, mo.prov.cert.factory.reset, mo.prov.cert.updated"
    And the second "MO" has a webhook endpoint "other-mo" for "mo.prov.cert.deleted, mo.prov.cert.factory.reset"
    And the MO signed 1 contracts for the vehicle
    When the first "OEM" deletes the vehicle's provisioning certificate
    Then endpoint "mo" receives exactly one "mo.prov.cert.deleted" event about that contract
    And endpoint "mo" receives exactly one "mo.prov.cert.factory.reset" event about that contract
    And the event endpoint "mo" received is a valid "WebhookPayload" describing that contract
    And endpoint "mo" received nothing else about that contract
    And endpoint "oem" receives exactly one "oem.contract.deleted" event about that contract
    And endpoint "other-mo" receives nothing about that contract

  @critical
  Scenario: A new key pair for the vehicle tells the MO its contract is gone
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "MO" has a webhook endpoint "mo" for "mo.prov.cert.updated, mo.prov.cert.deleted, mo.prov.cert.factory.reset"
    And the MO signed 1 contracts for the vehicle
    And I am "OEM"
    When I publish the same PCID with a new key pair
    Then the status is 200
    And endpoint "mo" receives exactly one "mo.prov.cert.updated" event about that contract
    And endpoint "mo" received nothing else about that contract
    And the MO finds the first contract no more

  # docs/components/06: mo.prov.cert.updated.factory.reset is raised when the provisioning
  # certificate got a different key pair and the PCID's contracts were deleted. It is marked
  # deprecated, yet webhooks.v1.json still offers it in the Event enum: a server that takes the
  # subscription delivers it (erratum E-WH-6: beside mo.prov.cert.updated).
  @normal @rule:WH-FACTORY-RESET
  Scenario: A new key pair for the vehicle tells an MO subscribed to the deprecated event name
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "MO" has a webhook endpoint "mo" for "mo.prov.cert.updated.factory.reset"
    And the MO signed 1 contracts for the vehicle
    And I am "OEM"
    When I publish the same PCID with a new key pair
    Then the status is 200
    And endpoint "mo" receives exactly one "mo.prov.cert.updated.factory.reset" event about that contract
    And the event endpoint "mo" received is a valid "WebhookPayload" describing that contract
    And endpoint "mo" received nothing else about that contract

  # docs/components/02 (Update a Provisioning Certificate): the MOs are notified "if the key
  # pair has changed"; with the same key pair the vehicle still decrypts its contract data.
  @critical @rule:PCP-REPUBLISH-SAME-KEY
  Scenario: Republishing a vehicle with its key pair unchanged tells nobody and keeps its contract
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And "MO" has a webhook endpoint "mo" for "mo.prov.cert.updated, mo.prov.cert.deleted, mo.prov.cert.factory.reset"
    And "OEM" has a webhook endpoint "oem" for "oem.contract.deleted"
    And the MO signed 1 contracts for the vehicle
    And I am "OEM"
    When I publish the same PCID again with its key pair unchanged
    Then the status is 200
    And endpoint "mo" receives nothing about that contract
    And endpoint "oem" receives nothing about that contract
    And the MO still finds the first contract

  @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation            | role   | expected  |
      | getWebhooks          | ADMIN  | no access |
      | getWebhooks          | OEM    | access    |
      | getWebhooks          | CPO    | access    |
      | getWebhooks          | MO     | access    |
      | getWebhooks          | MO_V2G | access    |
      | getWebhooks          | CPS    | access    |
      | addWebhook           | ADMIN  | no access |
      | addWebhook           | OEM    | access    |
      | addWebhook           | CPO    | access    |
      | addWebhook           | MO     | access    |
      | addWebhook           | MO_V2G | access    |
      | addWebhook           | CPS    | access    |
      | getWebhook           | ADMIN  | no access |
      | getWebhook           | OEM    | access    |
      | getWebhook           | CPO    | access    |
      | getWebhook           | MO     | access    |
      | getWebhook           | MO_V2G | access    |
      | getWebhook           | CPS    | access    |
      | updateWebhook        | ADMIN  | no access |
      | updateWebhook        | OEM    | access    |
      | updateWebhook        | CPO    | access    |
      | updateWebhook        | MO     | access    |
      | updateWebhook        | MO_V2G | access    |
      | updateWebhook        | CPS    | access    |
      | deleteWebhook        | ADMIN  | no access |
      | deleteWebhook        | OEM    | access    |
      | deleteWebhook        | CPO    | access    |
      | deleteWebhook        | MO     | access    |
      | deleteWebhook        | MO_V2G | access    |
      | deleteWebhook        | CPS    | access    |
      | getWebhookDeliveries | ADMIN  | no access |
      | getWebhookDeliveries | OEM    | access    |
      | getWebhookDeliveries | CPO    | access    |
      | getWebhookDeliveries | MO     | access    |
      | getWebhookDeliveries | MO_V2G | access    |
      | getWebhookDeliveries | CPS    | access    |
