@ctl @rcp
Feature: Certificate trust list
  The pool publishes the roots its ecosystem trusts as a signed certificate trust list at
  GET /v1/root/ctl (reference/rcp.v1.json). Its inner format is the project's opcp-ctl/1
  (docs/ctl.md, erratum E-RCP-4): every root with its fingerprint and type, a sequence
  number, signed by a CTL signer certificate that chains to a V2G root. A target that
  publishes no CTL (404) makes these scenarios not applicable.

  @critical @rule:CTL-VALID
  Scenario Outline: <role> reads a certificate trust list whose signature verifies
    Given I am "<role>"
    When I read the certificate trust list
    Then the certificate trust list verifies

    Examples:
      | role   |
      | CPO    |
      | OEM    |
      | MO_V2G |

  @critical @rule:CTL-MATCHES-RCP
  Scenario: The trust list lists exactly the roots of the pool
    Given I am "CPS"
    When I read the certificate trust list
    Then the certificate trust list verifies
    And it lists exactly the roots of the pool with their types

  @normal @rule:CTL-MATCHES-RCP
  Scenario: The trust list is re-issued when the pool changes
    Given I am "MO"
    And I read the certificate trust list
    When the operator adds a fresh V2G root to the pool
    And I read the certificate trust list again
    Then the new trust list has a higher sequence number and lists the fresh root
    When the operator deletes the fresh root
    And I read the certificate trust list again
    Then the new trust list has a higher sequence number and no longer lists the fresh root
