@rcp
Feature: Root Certificate Pool
  The RCP is the ecosystem's shared trust store: every party reads the V2G, MO and OEM
  roots; only the pool operator adds and deletes them (docs/components/01,
  reference/rcp.v1.json).

  @critical @rule:RCP-ROOT-FIELDS
  Scenario Outline: <role> reads the whole pool
    Given I am "<role>"
    When I list all roots
    Then the status is 200
    And the body is a valid "GetAllRootCertsResponse"
    And every listed root is a self-signed CA certificate whose informative fields match it

    Examples:
      | role   |
      | OEM    |
      | CPO    |
      | MO     |
      | MO_V2G |
      | CPS    |

  @normal @rule:RCP-FILTER
  Scenario Outline: The rootType filter "<filter>" lists only <type> roots
    Given the pool holds a fresh "<other>" root added by the operator
    And I am "CPO"
    When I list the roots of type "<filter>"
    Then the status is 200
    And the body is a valid "GetAllRootCertsResponse"
    And every listed root is of type "<type>"
    And the fresh root is not listed

    Examples:
      | filter | type | other |
      | v2g    | V2G  | OEM   |
      | mo     | MO   | V2G   |
      | oem    | OEM  | MO    |

  @normal
  Scenario: An unknown rootType filter is refused
    Given I am "CPO"
    When I list the roots of type "nonsense"
    Then the status is 400
    And the body is the spec's Error with a traceId

  @critical @rule:RCP-LIFECYCLE
  Scenario: A root is read by its id
    Given the pool holds a fresh "V2G" root added by the operator
    And I am "MO"
    When I ask for that root
    Then the status is 200
    And the body is a valid "GetRootCertResponse"
    And the body describes the fresh root

  # What the pool lists it can use (issue 17): getRootCert serves every root getAllRootCerts
  # lists, under its rootCertificateId and with the same certificate (reference/rcp.v1.json).
  @critical @rule:RCP-LISTED-READABLE
  Scenario: Every listed root is read by its id
    Given I am "CPO"
    When I list all roots
    Then the status is 200
    And every listed root is served by its id with the same certificate

  @normal @rule:RCP-LIFECYCLE
  Scenario: An unknown root id is not found
    Given I am "OEM"
    When I ask for a root with an unknown id
    Then the status is 404
    And the body is the spec's Error with a traceId

  # reference/rcp.v1.json deleteRootCa: a deleted root is gone for every read, the listing
  # included (what a pool lists can be used: issue 17).
  @critical @rule:RCP-LIFECYCLE
  Scenario: The operator adds a root, and every party sees it until it is deleted
    Given the pool holds a fresh "MO" root added by the operator
    And I am "CPS"
    When I list the roots of type "mo"
    Then the fresh root is listed
    When the operator deletes that root
    Then the status is 200
    When I ask for that root
    Then the status is 404
    When I list the roots of type "mo"
    Then the status is 200
    And the fresh root is no longer listed
    When the operator deletes that root
    Then the status is 404
    And the body is the spec's Error with a traceId

  @critical @rule:RCP-ROOT-ONLY
  Scenario Outline: The operator's bad root is refused: <kind>
    Given I remember how many roots the pool holds
    When the operator saves the root "<kind>"
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "caCertificate"
    And the pool holds as many roots as before

    Examples:
      | kind              |
      | malformed base64  |
      | not a certificate |
      | not self-signed   |
      | not a CA          |
      | expired           |
      | too long          |

  @normal @rule:RCP-ROOT-ONLY
  Scenario: A root already in the pool is refused
    Given the pool holds a fresh "OEM" root added by the operator
    And I remember how many roots the pool holds
    When the operator saves the same root again
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the pool holds as many roots as before

  @normal @rule:RCP-ROOT-ONLY
  Scenario Outline: A root with rootType <root_type> is refused
    Given I remember how many roots the pool holds
    When the operator saves a root with rootType "<root_type>"
    Then the status is 400
    And the error message mentions "rootType"
    And the pool holds as many roots as before

    Examples:
      | root_type |
      | (missing) |
      | XYZ       |
      | v2g       |

  @blocker @rule:RCP-OPERATOR-ONLY
  Scenario Outline: <role> may not delete a root
    Given the pool holds a fresh "V2G" root added by the operator
    And I am "<role>"
    When I delete that root
    Then the status is 403
    And the body is the spec's Error with a traceId
    And the fresh root is still in the pool

    Examples:
      | role   |
      | OEM    |
      | CPO    |
      | MO     |
      | MO_V2G |
      | CPS    |

  @normal
  Scenario: The certificate trust list is published or not found
    Given I am "CPO"
    When I call "getCertificateTrustList"
    Then the status is one of 200, 404

  @blocker @rule:ROLE-TABLE
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation               | role   | expected  |
      | getAllRootCerts         | ADMIN  | access    |
      | getAllRootCerts         | OEM    | access    |
      | getAllRootCerts         | CPO    | access    |
      | getAllRootCerts         | MO     | access    |
      | getAllRootCerts         | MO_V2G | access    |
      | getAllRootCerts         | CPS    | access    |
      | getRootCert             | ADMIN  | access    |
      | getRootCert             | OEM    | access    |
      | getRootCert             | CPO    | access    |
      | getRootCert             | MO     | access    |
      | getRootCert             | MO_V2G | access    |
      | getRootCert             | CPS    | access    |
      | saveRootCa              | ADMIN  | access    |
      | saveRootCa              | OEM    | no access |
      | saveRootCa              | CPO    | no access |
      | saveRootCa              | MO     | no access |
      | saveRootCa              | MO_V2G | no access |
      | saveRootCa              | CPS    | no access |
      | deleteRootCa            | ADMIN  | access    |
      | deleteRootCa            | OEM    | no access |
      | deleteRootCa            | CPO    | no access |
      | deleteRootCa            | MO     | no access |
      | deleteRootCa            | MO_V2G | no access |
      | deleteRootCa            | CPS    | no access |
      | getCertificateTrustList | ADMIN  | access    |
      | getCertificateTrustList | OEM    | access    |
      | getCertificateTrustList | CPO    | access    |
      | getCertificateTrustList | MO     | access    |
      | getCertificateTrustList | MO_V2G | access    |
      | getCertificateTrustList | CPS    | access    |
