@pcp
Feature: Provisioning Certificate Pool
  OEMs publish the provisioning certificate of each vehicle with its chain; MOs and CPSs
  read it by PCID. Publishing runs four control steps in order and answers the error of the
  first that fails: the PCID's WMI belongs to the OEM, every certificate is valid, every
  certificate is good at its OCSP responder, the chain leads to an OEM or V2G root in the
  RCP (docs/components/02, reference/pcp.v1.json).

  @blocker
  Scenario: An OEM publishes a provisioning certificate and an MO reads it
    Given the suite's OEM root is in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    When I publish it
    Then the status is 200
    And the body is a valid "ProvisioningCertificateData"
    And the body holds the published chain
    Given I am "MO"
    When I ask for it
    Then the status is 200
    And the body is a valid "GetProvisioningCertificateResponse"
    And the body holds the published chain
    When I look it up
    Then the status is 200

  @critical
  Scenario Outline: <role> reads a published provisioning certificate
    Given the first "OEM" published a provisioning certificate
    And I am "<role>"
    When I ask for it
    Then the status is 200
    And the body is a valid "GetProvisioningCertificateResponse"
    And the body holds the published chain

    Examples:
      | role   |
      | MO     |
      | MO_V2G |
      | CPS    |
      | OEM    |

  @normal
  Scenario: broadcast true reads this ecosystem's pool only
    Given the first "OEM" published a provisioning certificate
    And I am "MO"
    When I ask for it with the header broadcast "true"
    Then the status is 200
    And the body holds the published chain

  @critical
  Scenario: Publishing the same PCID again overwrites it
    Given the first "OEM" published a provisioning certificate
    And I am the first "OEM"
    When I publish the same PCID with a new key pair
    Then the status is 200
    Given I am "MO"
    When I ask for it
    Then the status is 200
    And the body holds the published chain

  @critical
  Scenario: The owning OEM deletes a provisioning certificate
    Given the first "OEM" published a provisioning certificate
    And I am the first "OEM"
    When I delete it
    Then the status is 200
    And the pool does not hold it
    When I delete it
    Then the status is 404
    And the body is the spec's Error with a traceId
    Given I am "MO"
    When I ask for it
    Then the status is 404
    And the body is the spec's Error with a traceId

  @normal
  Scenario: A PCID that is not in the pool is not found
    Given I am "MO"
    When I ask for an unpublished PCID of my WMI
    Then the status is 404
    And the body is the spec's Error with a traceId
    When I look it up
    Then the status is 404

  @blocker
  Scenario: An OEM may not publish for a WMI that is not its own
    Given the suite's OEM root is in the pool
    And I am the first "OEM"
    And a provisioning certificate for a vehicle of a WMI that is not mine
    When I publish it
    Then the status is 403
    And the body is the spec's Error with a traceId
    And the pool does not hold it

  # pcp.v1.json declares 403 and 404 for these operations: either denies the access
  # (docs/04_authentication.md); conformant variant pcp-foreign-vehicle-404.
  @blocker
  Scenario Outline: The second OEM may not <action> the first OEM's certificate
    Given the first "OEM" published a provisioning certificate
    And I am the second "OEM"
    When I <action>
    Then the status is one of 403, 404
    And the body is the spec's Error with a traceId
    And the pool still holds it

    Examples:
      | action      |
      | delete it   |
      | ask for it  |
      | look it up  |

  @blocker
  Scenario: A chain with an expired Sub-CA is refused (validity shell model)
    Given the suite's OEM root, whose Sub-CA 1 has expired, is in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    When I publish it
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "subCA1Certificate"
    And the pool does not hold it

  @blocker
  Scenario: A revoked provisioning certificate is refused (OCSP)
    Given the suite's OEM root is in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    And its OEM revoked the provisioning certificate at its OCSP responder
    When I publish it
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "revoked"
    And the pool does not hold it

  @critical
  Scenario: A certificate revoked after publishing is no longer delivered
    Given the first "OEM" published a provisioning certificate
    And I am "MO"
    When its OEM revokes the provisioning certificate at its OCSP responder
    And I ask for it
    Then the status is 404
    And the body is the spec's Error with a traceId

  @critical
  Scenario: An OEM publishes a certificate it enrolled by EST (V2G PKI)
    Given I am "OEM"
    When I enroll at the "oem" CA with a CSR in my scope
    Then the status is 200
    And the certificate is for my CSR
    And it chains to the "oem" CA certificates and a root of the pool
    When I publish the enrolled certificate with its CA certificates
    Then the status is 200
    And the body is a valid "ProvisioningCertificateData"

  @critical
  Scenario: A provisioning certificate the operator revoked is refused
    Given I am "OEM"
    When I enroll at the "oem" CA with a CSR in my scope
    Then the status is 200
    And the certificate is for my CSR
    And it chains to the "oem" CA certificates and a root of the pool
    When the operator revokes it
    Then the status is 200
    When I publish the enrolled certificate with its CA certificates
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "revoked"
    And the pool does not hold it

  # docs/components/02 (Publish): the control steps run in order (1 WMI, 2 validity, 3 OCSP,
  # 4 trust chain); "The PCP responds with an corresponding error code for the first occurring
  # error and stops the processing." Each answer expected is the one the single failure gets
  # in the scenarios above.
  @critical @rule:PCP-STEP-ORDER
  Scenario: A foreign WMI is answered before the chain is judged
    Given the suite's OEM root is not in the pool
    And I am the first "OEM"
    And a provisioning certificate for a vehicle of a WMI that is not mine
    When I publish it
    Then the status is 403
    And the body is the spec's Error with a traceId
    And the pool does not hold it

  @critical @rule:PCP-STEP-ORDER
  Scenario: An expired certificate is answered before its OCSP status
    Given the suite's OEM root, whose Sub-CA 1 has expired, is in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    And its OEM revoked the provisioning certificate at its OCSP responder
    When I publish it
    Then the status is 400
    And the error message mentions "subCA1Certificate"
    And the error message does not mention "revoked"
    And the pool does not hold it

  @blocker
  Scenario: A chain to a root outside the RCP is refused
    Given the suite's OEM root is not in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    When I publish it
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the pool does not hold it

  @normal
  Scenario Outline: A body with <field> <kind> is refused
    Given the suite's OEM root is in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    When I publish it with <field> replaced by "<kind>"
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "<field>"
    And the pool does not hold it

    Examples:
      | field              | kind             |
      | vehicleCertificate | malformed base64 |
      | vehicleCertificate | not DER          |
      | subCA1Certificate  | malformed base64 |
      | subCA2Certificate  | not DER          |

  @normal
  Scenario: A body without the leaf is refused
    Given the suite's OEM root is in the pool
    And I am "OEM"
    And a provisioning certificate for a vehicle of my WMI
    When I publish it without vehicleCertificate
    Then the status is 400
    And the error message mentions "vehicleCertificate"

  @normal
  Scenario: A leaf whose CN is not a PCID is refused
    Given the suite's OEM root is in the pool
    And I am "OEM"
    When I publish a chain whose leaf CN is not a PCID
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "^[a-zA-Z0-9]{17,18}$"

  @normal
  Scenario Outline: An invalid PCID in the path is refused: <action> "<pcid>"
    Given I am "OEM"
    When I <action> the PCID "<pcid>"
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "^[a-zA-Z0-9]{17,18}$"

    Examples:
      | action  | pcid                 |
      | ask for | WMA1234              |
      | look up | WMA12345678901234567 |
      | delete  | WMA-234567890123456  |

  # reference/pcp.v1.json deleteOEMProvCert: "A successful deletes triggers a call to the
  # DELETE method of the Contract Certificate Pool for all EMAIDs related to this PCID! In case
  # of contract certificates issued by one of the Operator owned MO CAs, this also involves
  # revocation of the same."
  @critical @rule:PCP-CASCADE-REVOCATION
  Scenario: Deleting a provisioning certificate revokes the contract certificates issued for it
    Given a vehicle of the first "OEM" is in the pool
    And I am "MO_V2G"
    When I generate signed contract data for a new EMAID of mine for the vehicle
    Then the status is 201
    When the vehicle installs its contract through its CPO
    Then the installed contract certificate's OCSP status is "good"
    When the first "OEM" deletes the vehicle's provisioning certificate
    Then I find the first contract no more
    And the installed contract certificate's OCSP status is "revoked"

  @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation         | role   | expected  |
      | addOemProvCert    | ADMIN  | no access |
      | addOemProvCert    | OEM    | access    |
      | addOemProvCert    | CPO    | no access |
      | addOemProvCert    | MO     | no access |
      | addOemProvCert    | MO_V2G | no access |
      | addOemProvCert    | CPS    | no access |
      | deleteOemProvCert | ADMIN  | no access |
      | deleteOemProvCert | OEM    | access    |
      | deleteOemProvCert | CPO    | no access |
      | deleteOemProvCert | MO     | no access |
      | deleteOemProvCert | MO_V2G | no access |
      | deleteOemProvCert | CPS    | no access |
      | getOEMProvCert    | ADMIN  | no access |
      | getOEMProvCert    | OEM    | access    |
      | getOEMProvCert    | CPO    | no access |
      | getOEMProvCert    | MO     | access    |
      | getOEMProvCert    | MO_V2G | access    |
      | getOEMProvCert    | CPS    | access    |
      | lookupVehicle     | ADMIN  | no access |
      | lookupVehicle     | OEM    | access    |
      | lookupVehicle     | CPO    | no access |
      | lookupVehicle     | MO     | access    |
      | lookupVehicle     | MO_V2G | access    |
      | lookupVehicle     | CPS    | access    |

  @admin @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation         | role   | expected  |
      | revokeCertificate | ADMIN  | access    |
      | revokeCertificate | OEM    | no access |
      | revokeCertificate | CPO    | no access |
      | revokeCertificate | MO     | no access |
      | revokeCertificate | MO_V2G | no access |
      | revokeCertificate | CPS    | no access |
