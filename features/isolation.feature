@isolation
Feature: Cross-party isolation
  An object belongs to one party: a provisioning certificate to the OEM of its PCID's WMI, a
  contract to the MO of its EMAID's prefix and to the OEM of its vehicle's WMI, a webhook
  endpoint to the client that created it. Another party of the same role gets 403 or 404,
  never the object, and changes nothing (docs/04_authentication.md; OWASP API1). The examples
  are the role table's owned operations with every role the ownership binds
  (`Operation.isolated_roles`); a test keeps them complete (tests/test_role_table.py).

  @pcp @critical @rule:OWNER-ISOLATION
  Scenario Outline: Isolation: the second <role> cannot <operation> the first's vehicle
    Given the first "<role>" published a provisioning certificate
    When the second "<role>" calls <operation> on it
    Then the intruder gets 403 or 404 and not the object
    And the owner's object is unchanged

    Examples:
      | operation | role |
      | addOemProvCert | OEM |
      | deleteOemProvCert | OEM |
      | getOEMProvCert | OEM |
      | lookupVehicle | OEM |

  @ccp @critical @rule:OWNER-ISOLATION
  Scenario Outline: Isolation: the second <role> cannot <operation> the first's contract
    Given contracts of the first "<role>" for a vehicle are in the pool
    When the second "<role>" calls <operation> on it
    Then the intruder gets 403 or 404 and not the object
    And the owner's object is unchanged

    Examples:
      | operation | role |
      | addSignedContractData | MO |
      | deleteSignedContractData | MO |
      | deleteSignedContractData | MO_V2G |
      | lookupContract | MO |
      | lookupContract | MO_V2G |
      | provideSignedContractData | OEM |
      | setDefaultContract | OEM |
      | getContracts | OEM |

  @cps @critical @rule:OWNER-ISOLATION
  Scenario Outline: Isolation: the second <role> cannot <operation> for the first's EMAID
    Given contracts of the first "<role>" for a vehicle are in the pool
    When the second "<role>" calls <operation> on it
    Then the intruder gets 403 or 404 and not the object
    And the owner's object is unchanged

    Examples:
      | operation | role |
      | signContractData | MO |
      | createSignedContractData | MO |
      | createAndForwardSignedContractData | MO |
      | generateSignedContractData | MO_V2G |

  @webhook @critical @rule:OWNER-ISOLATION
  Scenario Outline: Isolation: the second <role> cannot <operation> the first's webhook endpoint
    Given the first "<role>" owns a webhook endpoint
    When the second "<role>" calls <operation> on it
    Then the intruder gets 403 or 404 and not the object
    And the owner's object is unchanged

    Examples:
      | operation | role |
      | getWebhook | CPO |
      | getWebhook | CPS |
      | getWebhook | MO |
      | getWebhook | MO_V2G |
      | getWebhook | OEM |
      | updateWebhook | CPO |
      | updateWebhook | CPS |
      | updateWebhook | MO |
      | updateWebhook | MO_V2G |
      | updateWebhook | OEM |
      | deleteWebhook | CPO |
      | deleteWebhook | CPS |
      | deleteWebhook | MO |
      | deleteWebhook | MO_V2G |
      | deleteWebhook | OEM |
      | getWebhookDeliveries | CPO |
      | getWebhookDeliveries | CPS |
      | getWebhookDeliveries | MO |
      | getWebhookDeliveries | MO_V2G |
      | getWebhookDeliveries | OEM |
