@auth
Feature: OAuth2 client credentials and protected endpoints
  Every OPCP endpoint is reached with a bearer token that the token endpoint issues to a
  client for its credentials and the ecosystem's audience (docs/04_authentication.md,
  reference/accessToken.v1.json). Requests without a valid token are refused with 401 and
  the spec's Error body.

  @critical @rule:AUTH-TOKEN
  Scenario: A client obtains a token with its credentials
    Given I am "CPO"
    When I request a token with my credentials
    Then the status is 200
    And the body is a valid "TokenResponse"
    And the body is a bearer token that expires within 24 hours
    And the token answer may not be cached
    And the access token is a signed JWT

  # docs/04_authentication.md: the JWT "will contain" the role (CPO, MO, OEM, CPS) and which
  # EMAIDs or PCIDs the client may use (OEM: by WMI; MO: by EMAID prefix). The spec names no
  # claim, so the value counts wherever in the claims it stands. Opaque tokens: not applicable.
  @normal @rule:AUTH-CLAIMS
  Scenario Outline: A <role> token names its role and <what>
    Given I am "<role>"
    When I request a token with my credentials
    Then the status is 200
    And the token's claims name the role and <what>

    Examples:
      | role   | what               |
      | OEM    | its WMIs           |
      | MO     | its EMAID prefixes |
      | MO_V2G | its EMAID prefixes |
      | CPO    | nothing more       |
      | CPS    | nothing more       |

  @normal @rule:AUTH-API-KEY-AND-BEARER
  Scenario: An API key sent beside a valid bearer token is ignored
    Given I am "CPO"
    When I call "getAllRootCerts" with the header "x-api-key: some-client-api-key"
    Then the status is 200

  @critical @rule:AUTH-REFUSE
  Scenario Outline: Wrong credentials buy no token (<field>)
    Given I am "MO"
    When I request a token with "<field>" set to "<value>"
    Then the status is 401
    And the body is a valid "TokenError"
    And no access token is issued

    Examples:
      | field         | value                  |
      | client_secret | wrong-secret-123       |
      | client_id     | no-such-client-4711    |

  @normal @rule:AUTH-REFUSE
  Scenario Outline: A token request without <field> is refused
    Given I am "CPS"
    When I request a token without "<field>"
    Then the status is one of 400, 401
    And the body is a valid "TokenError"
    And no access token is issued

    Examples:
      | field         |
      | client_id     |
      | client_secret |
      | grant_type    |

  @normal @rule:AUTH-REFUSE
  Scenario: Only the client credentials grant is offered
    Given I am "CPS"
    When I request a token with "grant_type" set to "password"
    Then the status is 400
    And the body is a valid "TokenError"
    And no access token is issued

  @critical @rule:AUTH-REFUSE
  Scenario: A token for another audience is not issued
    Given I am "CPO"
    When I request a token with "audience" set to "https://another-ecosystem.example"
    Then the status is one of 400, 401, 403
    And no access token is issued

  @normal @rule:AUTH-REFUSE
  Scenario: A token request that is not JSON is refused
    Given I am "CPO"
    When I request a token with a body that is not JSON
    Then the status is 400
    And no access token is issued

  @blocker @rule:AUTH-REFUSE
  Scenario: A protected endpoint refuses a request without a token
    Given I present no token
    When I call "getAllRootCerts"
    Then the status is 401
    And the body is the spec's Error with a traceId

  @blocker @rule:AUTH-REFUSE
  Scenario Outline: A protected endpoint refuses a <kind> token
    Given I am "CPO"
    And I present a "<kind>" token
    When I call "getAllRootCerts"
    Then the status is 401
    And the body is the spec's Error with a traceId

    Examples:
      | kind            |
      | alg-none        |
      | foreign-key     |
      | tampered-claims |
      | garbage         |
      | expired         |
      | wrong-audience  |
      | wrong-issuer    |
      | not-yet-valid   |

  # docs/04_authentication.md: all endpoints are secured with OAuth2 bearer tokens (RFC 6750
  # section 3.1: a missing or invalid token is answered 401). Every operation of the role
  # table whose service the target declares, not only the one above.
  @blocker @rule:AUTH-REFUSE
  Scenario: Every secured operation refuses a request without a token and one with a forged token
    When I call every secured operation without a token
    Then every one is refused with 401
    When I call every secured operation with a forged token
    Then every one is refused with 401

  @normal @rule:API-ERROR
  Scenario: An unknown resource is answered with the Error body
    Given I am "CPO"
    When I GET an unknown resource beside "getCertificateTrustList"
    Then the status is 404
    And the body is the spec's Error with a traceId

  @normal @rule:API-ERROR
  Scenario: A wrong method is answered with the Error body
    Given I am "CPO"
    When I PUT the path of "getCertificateTrustList" with the body:
      """
      {}
      """
    Then the status is one of 403, 405
    And the body is the spec's Error with a traceId

  @critical @security @rule:AUTH-ALG
  Scenario: A token signed with HMAC over the public key is refused
    Given I am "CPO"
    And I present a "hs256-with-public-key" token
    When I call "getAllRootCerts"
    Then the status is 401
    And the body is the spec's Error with a traceId

  @normal @security @rule:SEC-THROTTLE
  Scenario: Repeated wrong secrets are throttled
    When a client id that is being guessed gets 6 wrong secrets in a row
    Then the status is 429
    And the answer says when to retry

  @critical @security @rule:SEC-KEY-ROTATION
  Scenario: Tokens outlive a rotation of the signing key
    Given I am "MO"
    And I hold a token issued before the key rotation
    When the operator rotates the token signing key
    Then a token issued now names another key
    And the token issued before the rotation is still accepted
    And the published keys include both keys

  @admin @blocker @rule:ROLE-TABLE
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation        | role   | expected  |
      | rotateSigningKey | ADMIN  | access    |
      | rotateSigningKey | OEM    | no access |
      | rotateSigningKey | CPO    | no access |
      | rotateSigningKey | MO     | no access |
      | rotateSigningKey | MO_V2G | no access |
      | rotateSigningKey | CPS    | no access |
