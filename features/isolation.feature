@isolation
Feature: Cross-party isolation
  An object belongs to one party: a provisioning certificate to the OEM of its PCID's WMI, a
  webhook endpoint to the client that created it. Another party of the same role gets 403 or
  404, never the object, and changes nothing (docs/04_authentication.md; OWASP API1). The
  examples are the role table's owned operations, every role that may call them; a test keeps
  them complete (tests/test_role_table.py).

  @pcp @critical @rule:OWNER-ISOLATION
  Scenario Outline: Isolation: the second OEM cannot <operation> the first OEM's vehicle
    Given the first "OEM" published a provisioning certificate
    When the second "OEM" calls <operation> on it
    Then the intruder gets 403 or 404 and not the object
    And the owner's object is unchanged

    Examples:
      | operation |
      | addOemProvCert |
      | deleteOemProvCert |
      | getOEMProvCert |
      | lookupVehicle |

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
