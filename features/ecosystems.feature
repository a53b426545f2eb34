@ecosystems
Feature: Interoperability between ecosystems
  Several V2G root operators, one ecosystem (docs/ecosystems.md): a root vouches for another
  by a cross-certificate the RCP publishes in crossCertificatePair, and a vehicle that trusts
  only one of them still installs contracts signed under the other; the EST gateway serves one
  CA per V2G root under prefixed names (est.v1.json: ^(\w+-)?(cpo|mo|oem|cps|veh)$). Targets
  without cross-certificates or prefixed CAs make those scenarios not applicable.
  Pool collaboration runs between two targets: the target and the peer ecosystem its target
  file names in [peer] (not applicable without one). The suite puts a vehicle and its contract
  into the peer's pools with the peer's own clients, then asks the target.

  @ccp @critical @rule:MULTIROOT-CROSS
  Scenario: A vehicle that trusts only one V2G root installs a contract signed under another
    Given the pool publishes a cross-certificate by which one V2G root vouches for another
    And a vehicle that trusts only the vouching root is in the provisioning certificate pool
    When an MO_V2G has its contract signed under the vouched-for root
    And the vehicle asks a CPO for its contract
    Then the vehicle validates the CPS chain through the cross-certificate and installs the contract

  @ccp @critical @rule:POOL-FORWARD
  Scenario: A vehicle whose contract is in the peer's pool gets it through the target's CCP
    Given the target names a peer ecosystem
    And a vehicle whose contract is in the peer's pool only
    When a CPO of the target asks the target's CCP for the vehicle's contract
    Then the target answers the peer's signed contract data, which the vehicle installs

  @ccp @normal @rule:POOL-FORWARD
  Scenario: A request that says broadcast true is answered from the target's pool alone
    Given the target names a peer ecosystem
    And a vehicle whose contract is in the peer's pool only
    When a CPO of the target asks the target's CCP for the vehicle's contract with the header "broadcast: true"
    Then the target answers that it holds no contract for the vehicle

  @ccp @normal @rule:POOL-PEER-DOWN
  Scenario Outline: A peer that is <outage> is answered <status> naming it within <seconds> seconds
    Given the target names a peer ecosystem
    And a vehicle whose contract is in the peer's pool only
    And the target's peer is <outage>
    When a CPO of the target asks the target's CCP for the vehicle's contract
    Then the answer is <status> naming the peer, within <seconds> seconds

    Examples:
      | outage | status | seconds |
      | down   | 502    | 10      |
      | slow   | 504    | 20      |

  # ccp.v1.json provideSignedContractData declares 403 and 404: either refuses an OEM outside
  # the WMI (conformant variant ccp-foreign-contract-404).
  @ccp @critical @rule:POOL-FORWARD
  Scenario Outline: An OEM <holding> the vehicle's WMI pulls the peer's contract through the target: <status>
    Given the target names a peer ecosystem
    And a vehicle whose contract is in the peer's pool only
    When an OEM of the target <holding> the vehicle's WMI pulls the vehicle's contract
    Then the status is <status>

    Examples:
      | holding     | status           |
      | holding     | 200              |
      | not holding | one of 403, 404  |

  @rcp @critical @rule:RCP-LIFECYCLE
  Scenario: An expired root leaves the Root Certificate Pool, announced once by root.cert.expired
    Given "OEM" has a webhook endpoint "oem" for "root.cert.expired"
    When the operator adds a root that expires in 5 seconds
    Then endpoint "oem" receives exactly one "root.cert.expired" event about that root
    And the expired root is no longer in the Root Certificate Pool

  @cps @critical @rule:MULTIROOT-CROSS
  Scenario: Left to decide, the CPS signs under the V2G root the vehicle trusts
    Given the CPS signs under at least two V2G roots
    And a vehicle that trusts only the second signer's V2G root, as its pool entry says, is in the provisioning certificate pool
    When an MO_V2G has its contract generated without naming a V2G root
    And the vehicle asks a CPO for its contract
    Then the contract is signed under the second signer's V2G root and the vehicle installs it

  @est @normal @rule:EST-PREFIXED-CA
  Scenario: Prefixed EST CAs issue under the V2G root each names
    Given I am "CPS"
    When I enroll a CPS certificate at the EST CA "v2g1-cps"
    And I enroll a CPS certificate at the EST CA "v2g2-cps"
    Then the certificate chains to a V2G root of the pool through "v2g1-cps"'s CA certificates
    And the certificate chains to a V2G root of the pool through "v2g2-cps"'s CA certificates
    And the CAs "v2g1-cps" and "v2g2-cps" issue under different V2G roots

  @est @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation             | role   | expected  |
      | simpleEnroll-V2G1-OEM | ADMIN  | no access |
      | simpleEnroll-V2G1-OEM | OEM    | access    |
      | simpleEnroll-V2G1-OEM | CPO    | no access |
      | simpleEnroll-V2G1-OEM | MO     | no access |
      | simpleEnroll-V2G1-OEM | MO_V2G | no access |
      | simpleEnroll-V2G1-OEM | CPS    | no access |
      | caCerts-V2G1-OEM      | ADMIN  | no access |
      | caCerts-V2G1-OEM      | OEM    | access    |
      | caCerts-V2G1-OEM      | CPO    | no access |
      | caCerts-V2G1-OEM      | MO     | no access |
      | caCerts-V2G1-OEM      | MO_V2G | no access |
      | caCerts-V2G1-OEM      | CPS    | no access |
      | simpleEnroll-V2G1-CPO | ADMIN  | no access |
      | simpleEnroll-V2G1-CPO | OEM    | no access |
      | simpleEnroll-V2G1-CPO | CPO    | access    |
      | simpleEnroll-V2G1-CPO | MO     | no access |
      | simpleEnroll-V2G1-CPO | MO_V2G | no access |
      | simpleEnroll-V2G1-CPO | CPS    | no access |
      | caCerts-V2G1-CPO      | ADMIN  | no access |
      | caCerts-V2G1-CPO      | OEM    | no access |
      | caCerts-V2G1-CPO      | CPO    | access    |
      | caCerts-V2G1-CPO      | MO     | no access |
      | caCerts-V2G1-CPO      | MO_V2G | no access |
      | caCerts-V2G1-CPO      | CPS    | no access |
      | simpleEnroll-V2G1-MO  | ADMIN  | no access |
      | simpleEnroll-V2G1-MO  | OEM    | no access |
      | simpleEnroll-V2G1-MO  | CPO    | no access |
      | simpleEnroll-V2G1-MO  | MO     | no access |
      | simpleEnroll-V2G1-MO  | MO_V2G | access    |
      | simpleEnroll-V2G1-MO  | CPS    | no access |
      | caCerts-V2G1-MO       | ADMIN  | no access |
      | caCerts-V2G1-MO       | OEM    | no access |
      | caCerts-V2G1-MO       | CPO    | no access |
      | caCerts-V2G1-MO       | MO     | no access |
      | caCerts-V2G1-MO       | MO_V2G | access    |
      | caCerts-V2G1-MO       | CPS    | no access |
      | simpleEnroll-V2G1-CPS | ADMIN  | no access |
      | simpleEnroll-V2G1-CPS | OEM    | no access |
      | simpleEnroll-V2G1-CPS | CPO    | no access |
      | simpleEnroll-V2G1-CPS | MO     | no access |
      | simpleEnroll-V2G1-CPS | MO_V2G | access    |
      | simpleEnroll-V2G1-CPS | CPS    | access    |
      | caCerts-V2G1-CPS      | ADMIN  | no access |
      | caCerts-V2G1-CPS      | OEM    | no access |
      | caCerts-V2G1-CPS      | CPO    | no access |
      | caCerts-V2G1-CPS      | MO     | no access |
      | caCerts-V2G1-CPS      | MO_V2G | access    |
      | caCerts-V2G1-CPS      | CPS    | access    |
      | simpleEnroll-V2G1-VEH | ADMIN  | no access |
      | simpleEnroll-V2G1-VEH | OEM    | access    |
      | simpleEnroll-V2G1-VEH | CPO    | no access |
      | simpleEnroll-V2G1-VEH | MO     | no access |
      | simpleEnroll-V2G1-VEH | MO_V2G | no access |
      | simpleEnroll-V2G1-VEH | CPS    | no access |
      | caCerts-V2G1-VEH      | ADMIN  | no access |
      | caCerts-V2G1-VEH      | OEM    | access    |
      | caCerts-V2G1-VEH      | CPO    | no access |
      | caCerts-V2G1-VEH      | MO     | no access |
      | caCerts-V2G1-VEH      | MO_V2G | no access |
      | caCerts-V2G1-VEH      | CPS    | no access |
      | simpleEnroll-V2G2-CPO | ADMIN  | no access |
      | simpleEnroll-V2G2-CPO | OEM    | no access |
      | simpleEnroll-V2G2-CPO | CPO    | access    |
      | simpleEnroll-V2G2-CPO | MO     | no access |
      | simpleEnroll-V2G2-CPO | MO_V2G | no access |
      | simpleEnroll-V2G2-CPO | CPS    | no access |
      | caCerts-V2G2-CPO      | ADMIN  | no access |
      | caCerts-V2G2-CPO      | OEM    | no access |
      | caCerts-V2G2-CPO      | CPO    | access    |
      | caCerts-V2G2-CPO      | MO     | no access |
      | caCerts-V2G2-CPO      | MO_V2G | no access |
      | caCerts-V2G2-CPO      | CPS    | no access |
      | simpleEnroll-V2G2-CPS | ADMIN  | no access |
      | simpleEnroll-V2G2-CPS | OEM    | no access |
      | simpleEnroll-V2G2-CPS | CPO    | no access |
      | simpleEnroll-V2G2-CPS | MO     | no access |
      | simpleEnroll-V2G2-CPS | MO_V2G | access    |
      | simpleEnroll-V2G2-CPS | CPS    | access    |
      | caCerts-V2G2-CPS      | ADMIN  | no access |
      | caCerts-V2G2-CPS      | OEM    | no access |
      | caCerts-V2G2-CPS      | CPO    | no access |
      | caCerts-V2G2-CPS      | MO     | no access |
      | caCerts-V2G2-CPS      | MO_V2G | access    |
      | caCerts-V2G2-CPS      | CPS    | access    |
