@clients
Feature: Deployed CSMS clients get what they need (compatibility)
  Open-source CSMS backends call OPCP in ways the spec does not give: CitrineOS
  (02_Util/src/certificate/client/hubject.ts) and MaEVe (manager/services/). Each scenario
  sends one such habit to the target and reports, on the compatibility axis, whether the
  target accepts it: a failure here says which deployed clients will break against the
  target, not that it breaks the spec (a warning under --profile lenient). docs/clients.md
  lists the habits and the clients that have them.

  @auth @normal @rule:AUTH-FORM
  Scenario: CitrineOS requests its token form-encoded
    Given I am "CPO"
    When I request a token with my credentials form-encoded
    Then the status is 200
    And the body is a valid "TokenResponse"
    And the token opens the root certificate pool

  @auth @critical @rule:AUTH-AUDIENCE-BASE-URL
  Scenario: CitrineOS names the base URL it calls as the token's audience
    Given I am "CPO"
    When I request a token with the base URL I call as audience
    Then the status is 200
    And the body is a valid "TokenResponse"
    And the token opens the root certificate pool

  @auth @critical @rule:AUTH-AUDIENCE-DEFAULT
  Scenario: MaEVe requests its token without an audience
    Given I am "CPO"
    When I request a token without "audience"
    Then the status is 200
    And the body is a valid "TokenResponse"
    And the token opens the root certificate pool

  @est @critical @rule:EST-WELL-KNOWN-SHORT
  Scenario: CitrineOS asks for the CA certificates at /.well-known/cpo/cacerts
    Given I am "CPO"
    When I ask for the "cpo" CA certificates at "/.well-known/{ca}/cacerts"
    Then the status is 200
    And the answer holds the CA certificates the role table's path gives

  @est @critical @rule:EST-WELL-KNOWN-SHORT
  Scenario: CitrineOS enrolls its station at /.well-known/cpo/simpleenroll
    Given I am "CPO"
    When I enroll a CSR of my station at "/.well-known/{ca}/simpleenroll"
    Then the status is 200
    And the answer is one certificate for my CSR

  @est @critical @rule:EST-NO-PREFIX
  Scenario: MaEVe enrolls its station at /cpo/simpleenroll/ISO15118-2
    Given I am "CPO"
    When I enroll a CSR of my station at "/{ca}/simpleenroll/ISO15118-2"
    Then the status is 200
    And the answer is one certificate for my CSR

  @est @critical @rule:EST-NO-ALGORITHM
  Scenario Outline: MaEVe asks for the <ca> CA certificates without the algorithm
    Given I am "<role>"
    When I ask for the "<ca>" CA certificates at "/{ca}/cacerts/ISO15118-2"
    Then the status is 200
    And the answer holds the CA certificates the role table's path gives

    Examples:
      | role   | ca  |
      | CPO    | cpo |
      | MO_V2G | mo  |

  @est @critical @rule:EST-CHAIN-ORDER
  Scenario Outline: CitrineOS reads the <ca> CA certificates by position
    Given I am "<role>"
    When I ask for the "<ca>" CA certificates at "/.well-known/est/{ca}/cacerts/ISO15118-2/secp256r1"
    Then the status is 200
    And the certificates are listed as Sub-CA 2, Sub-CA 1, root

    Examples:
      | role   | ca  |
      | CPO    | cpo |
      | MO_V2G | mo  |
