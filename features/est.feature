@est
Feature: EST enrollment and CA distribution
  Each party gets leaf certificates of its role from the V2G PKI by EST (RFC 7030):
  simpleenroll certifies a base64 PKCS#10 request whose CN is the party's own identifier;
  cacerts hands out the CA chain. Both answer PKCS#7 certs-only in base64
  (docs/components/05, reference/est.v1.json).

  @blocker
  Scenario Outline: <role> enrolls at the <ca> CA
    Given I am "<role>"
    When I enroll at the "<ca>" CA with a CSR in my scope
    Then the status is 200
    And the answer is PKCS#7 certs-only in base64
    And the certificate is for my CSR
    And it chains to the "<ca>" CA certificates and a root of the pool

    Examples:
      | role   | ca  |
      | CPO    | cpo |
      | MO_V2G | mo  |
      | OEM    | oem |
      | OEM    | veh |
      | CPS    | cps |
      | MO_V2G | cps |

  @normal
  Scenario: CitrineOS enrolls sending Accept application/pkcs10 and still gets PKCS#7
    Given I am "CPO"
    When I enroll at the "cpo" CA sending Accept "application/pkcs10"
    Then the status is 200
    And the answer is PKCS#7 certs-only in base64
    And the certificate is for my CSR

  @critical
  Scenario Outline: <role> gets the <ca> CA certificates <how>
    Given I am "<role>"
    When I ask for the "<ca>" CA certificates <how>
    Then the status is 200
    And the answer is PKCS#7 certs-only in base64
    And the bundle is a CA chain ending in a root of the pool

    Examples:
      | role   | ca  | how                                               |
      | CPO    | cpo | by the role table's path                          |
      | MO_V2G | mo  | by the role table's path                          |
      | OEM    | oem | by the role table's path                          |
      | OEM    | veh | by the role table's path                          |
      | CPS    | cps | by the role table's path                          |
      | CPO    | cpo | by the spec's path                                |
      | OEM    | oem | with the Content-Transfer-Encoding request header |

  @normal
  Scenario: An algorithm the ecosystem has no CA for is not found
    Given I am "CPO"
    When I ask for the "cpo" CA certificates for algorithm "ed448"
    Then the status is 404
    And the body is the spec's Error with a traceId

  @normal
  Scenario: An algorithm outside the spec's list is refused
    Given I am "CPO"
    When I ask for the "cpo" CA certificates for algorithm "rsa2048"
    Then the status is 400
    And the error message mentions "algorithm"

  @blocker
  Scenario Outline: A CSR for a CN outside the caller's scope is refused at the <ca> CA
    Given I am "<role>"
    When I enroll at the "<ca>" CA with a CSR for a CN outside my scope
    Then the status is one of 400, 403
    And the body is the spec's Error with a traceId
    And the error message mentions "CN"

    Examples:
      | role   | ca  |
      | MO_V2G | mo  |
      | OEM    | oem |
      | OEM    | veh |

  @critical
  Scenario Outline: Bad input is refused at the <ca> CA: <kind>
    Given I am "<role>"
    When I enroll at the "<ca>" CA with <kind>
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "<names>"

    Examples:
      | role   | ca  | kind                                  | names     |
      | CPO    | cpo | malformed base64                      | base64    |
      | CPO    | cpo | a body that is not DER                | PKCS#10   |
      | OEM    | oem | a CSR whose signature does not verify | signature |
      | CPO    | cpo | a CSR whose CN is not an identifier   | CN        |
      | MO_V2G | mo  | a CSR whose CN is not an identifier   | CN        |
      | OEM    | oem | a CSR whose CN is not an identifier   | CN        |
      | CPS    | cps | a CSR with a P-384 key                | secp256r1 |

  @admin @critical
  Scenario: A certificate the operator revokes is revoked at the OCSP responder
    Given I am "OEM"
    When I enroll at the "oem" CA with a CSR in my scope
    Then the status is 200
    And the certificate is for my CSR
    And it chains to the "oem" CA certificates and a root of the pool
    And its OCSP status is "good"
    When the operator revokes it
    Then the status is 200
    And its OCSP status is "revoked"
    When the operator revokes it
    Then the status is 409
    And the body is the spec's Error with a traceId

  @admin @normal
  Scenario Outline: A revocation request <problem> is refused
    When the operator sends a revocation request <problem>
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "<field>"

    Examples:
      | problem                 | field         |
      | without a serial number | serialNumber  |
      | with an unknown reason  | reason        |
      | naming no issuer        | issuerKeyHash |

  @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation        | role   | expected  |
      | simpleEnroll-OEM | ADMIN  | no access |
      | simpleEnroll-OEM | OEM    | access    |
      | simpleEnroll-OEM | CPO    | no access |
      | simpleEnroll-OEM | MO     | no access |
      | simpleEnroll-OEM | MO_V2G | no access |
      | simpleEnroll-OEM | CPS    | no access |
      | caCerts-OEM      | ADMIN  | no access |
      | caCerts-OEM      | OEM    | access    |
      | caCerts-OEM      | CPO    | no access |
      | caCerts-OEM      | MO     | no access |
      | caCerts-OEM      | MO_V2G | no access |
      | caCerts-OEM      | CPS    | no access |
      | simpleEnroll-CPO | ADMIN  | no access |
      | simpleEnroll-CPO | OEM    | no access |
      | simpleEnroll-CPO | CPO    | access    |
      | simpleEnroll-CPO | MO     | no access |
      | simpleEnroll-CPO | MO_V2G | no access |
      | simpleEnroll-CPO | CPS    | no access |
      | caCerts-CPO      | ADMIN  | no access |
      | caCerts-CPO      | OEM    | no access |
      | caCerts-CPO      | CPO    | access    |
      | caCerts-CPO      | MO     | no access |
      | caCerts-CPO      | MO_V2G | no access |
      | caCerts-CPO      | CPS    | no access |
      | simpleEnroll-MO  | ADMIN  | no access |
      | simpleEnroll-MO  | OEM    | no access |
      | simpleEnroll-MO  | CPO    | no access |
      | simpleEnroll-MO  | MO     | no access |
      | simpleEnroll-MO  | MO_V2G | access    |
      | simpleEnroll-MO  | CPS    | no access |
      | caCerts-MO       | ADMIN  | no access |
      | caCerts-MO       | OEM    | no access |
      | caCerts-MO       | CPO    | no access |
      | caCerts-MO       | MO     | no access |
      | caCerts-MO       | MO_V2G | access    |
      | caCerts-MO       | CPS    | no access |
      | simpleEnroll-CPS | ADMIN  | no access |
      | simpleEnroll-CPS | OEM    | no access |
      | simpleEnroll-CPS | CPO    | no access |
      | simpleEnroll-CPS | MO     | no access |
      | simpleEnroll-CPS | MO_V2G | access    |
      | simpleEnroll-CPS | CPS    | access    |
      | caCerts-CPS      | ADMIN  | no access |
      | caCerts-CPS      | OEM    | no access |
      | caCerts-CPS      | CPO    | no access |
      | caCerts-CPS      | MO     | no access |
      | caCerts-CPS      | MO_V2G | access    |
      | caCerts-CPS      | CPS    | access    |
      | simpleEnroll-VEH | ADMIN  | no access |
      | simpleEnroll-VEH | OEM    | access    |
      | simpleEnroll-VEH | CPO    | no access |
      | simpleEnroll-VEH | MO     | no access |
      | simpleEnroll-VEH | MO_V2G | no access |
      | simpleEnroll-VEH | CPS    | no access |
      | caCerts-VEH      | ADMIN  | no access |
      | caCerts-VEH      | OEM    | access    |
      | caCerts-VEH      | CPO    | no access |
      | caCerts-VEH      | MO     | no access |
      | caCerts-VEH      | MO_V2G | no access |
      | caCerts-VEH      | CPS    | no access |
