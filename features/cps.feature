@cps
Feature: Certificate Provisioning Service
  The CPS turns an MO's contract into signed contract data: an ISO 15118-2
  CertificateInstallationRes signed by a CPS leaf under a V2G root. An MO with its own PKI
  brings the contract chain and the contract key encrypted to the vehicle
  (contractData/signed); an MO using the V2G PKI lets the CPS generate both
  (generate/signedContractData). With a PCID the signed data is pooled in the CCP
  (docs/components/03, reference/cps.v1.json).

  @blocker
  Scenario: An MO with its own PKI gets contract data signed and the vehicle installs it
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data for a new EMAID of mine for the vehicle
    Then the status is 201
    And the body is a valid "SignedContractDataResponse"
    And the signed data verifies with a CPS signer under the V2G root it names
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the vehicle installs the first contract

  @blocker
  Scenario: An MO using the V2G PKI has the contract generated for the vehicle
    Given a vehicle of the first "OEM" is in the pool
    And I am "MO_V2G"
    When I generate signed contract data for a new EMAID of mine for the vehicle
    Then the status is 201
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the vehicle installs the first contract
    And the contract certificate is valid from contractBegins to contractEnds

  # reference/cps.v1.json generateSignedContractData: "To update a contractData, the
  # interface must be called again with the same PCID and EMAID. The system will replace the
  # old contractData with the new one."
  @normal @rule:CPS-GENERATE-REPLACES
  Scenario: Generating again for the same PCID and EMAID replaces the contract
    Given a vehicle of the first "OEM" is in the pool
    And I am "MO_V2G"
    When I generate signed contract data for a new EMAID of mine for the vehicle
    Then the status is 201
    When I generate signed contract data again for that EMAID, valid for 60 days
    Then the status is 201
    Given I am "OEM"
    When I list the vehicle's contracts
    Then the status is 200
    And the body is a valid "LookupContractResponse"
    And every listed contract of the first EMAID is valid from contractBegins to contractEnds
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the vehicle installs the first contract
    And the contract certificate is valid from contractBegins to contractEnds

  @critical
  Scenario: Signed data without a PCID is not pooled
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data for a new EMAID of mine without a PCID
    Then the status is 201
    And the signed data verifies with a CPS signer under the V2G root it names
    And the pool holds no contract for the vehicle

  @critical
  Scenario: Every CPS signer chains to a V2G root of the pool
    Given I am "MO"
    When I ask for the CPS signers
    Then the status is 200
    And the body is a valid "GetAllCpsSignerResponse"
    And every CPS signer chains to the V2G root it names

  @critical
  Scenario: The chosen CPS signer signs
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data for the vehicle's first contract under the second CPS signer
    Then the status is 201
    And the signed data verifies with a CPS signer under the V2G root it names

  # What the CPS lists it can use: cps.v1.json generateSignedContractData takes
  # cpsV2GRootCertificateFingerprint, "the desired V2G root CA which shall be used to sign",
  # and getAllCpsSigners lists the signers there are. The 201 of generate declares no body
  # (E-CPS-3), so the contract is judged as the OEM pulls it from the pool.
  @normal @rule:CPS-LISTED-SIGNER-USABLE
  Scenario: Every listed CPS signer's V2G root can be named for generating, and signs
    Given a vehicle of the first "OEM" is in the pool
    And I am "MO_V2G"
    When I generate signed contract data for the vehicle under each listed CPS signer's V2G root
    Then each was answered 201
    And each generated contract the OEM pulls is signed under the V2G root it named

  @critical @rule:CPS-EMAID-OWNER
  Scenario: An MO may not get contracts signed for another MO's EMAID
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data for an EMAID of the second "MO" for the vehicle
    Then the status is 403
    And the body is the spec's Error with a traceId
    And the pool holds no contract for the vehicle

  @critical @rule:CPS-CONTRACT-TRUST
  Scenario: A contract chain to a root outside the RCP is not signed
    Given the suite's MO root is not in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data for a new EMAID of mine for the vehicle
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "contractData"
    And the pool holds no contract for the vehicle

  @normal
  Scenario: Contract data for a PCID the pool does not hold is refused
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data of the suite's MO for a PCID not in the pool
    Then the status is 404
    And the body is the spec's Error with a traceId

  @normal
  Scenario Outline: Contract data whose <field> is <kind> is refused
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I sign contract data for the vehicle whose <field> is "<kind>"
    Then the status is 400
    And the error message mentions "<field>"
    And the pool holds no contract for the vehicle

    Examples:
      | field                                | kind              |
      | dHpublickey                          | not a P-256 point |
      | contractSignatureEncryptedPrivateKey | 47 bytes long     |
      | contractCertificate                  | not base64        |

  # reference/cps.v1.json CreateSignedContractDataRequest: contractData is `contract-data`
  # (contractSignatureCertChain{...}, the key, dHpublickey, emaid); the suite sends that shape
  # (erratum E-CPS-4: signContractData's ContractData is the other reading).
  @minor
  Scenario: The deprecated createSignedContractData signs without pooling
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I call the deprecated createSignedContractData for a new EMAID of mine for the vehicle
    Then the status is 200
    And the body is a valid "CreateSignedContractDataResponse"
    And the answer says the operation is deprecated
    And the signed data verifies with a CPS signer under the V2G root it names
    And the pool holds no contract for the vehicle

  @minor
  Scenario: The deprecated createAndForwardSignedContractData signs and pools
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When I call the deprecated createAndForwardSignedContractData for a new EMAID of mine for the vehicle
    Then the status is 201
    And the answer says the operation is deprecated
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the vehicle installs the first contract

  @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation                          | role   | expected  |
      | getAllCpsSigners                   | ADMIN  | no access |
      | getAllCpsSigners                   | OEM    | access    |
      | getAllCpsSigners                   | CPO    | access    |
      | getAllCpsSigners                   | MO     | access    |
      | getAllCpsSigners                   | MO_V2G | access    |
      | getAllCpsSigners                   | CPS    | access    |
      | signContractData                   | ADMIN  | no access |
      | signContractData                   | OEM    | no access |
      | signContractData                   | CPO    | no access |
      | signContractData                   | MO     | access    |
      | signContractData                   | MO_V2G | no access |
      | signContractData                   | CPS    | no access |
      | generateSignedContractData         | ADMIN  | no access |
      | generateSignedContractData         | OEM    | no access |
      | generateSignedContractData         | CPO    | no access |
      | generateSignedContractData         | MO     | no access |
      | generateSignedContractData         | MO_V2G | access    |
      | generateSignedContractData         | CPS    | no access |
      | createSignedContractData           | ADMIN  | no access |
      | createSignedContractData           | OEM    | no access |
      | createSignedContractData           | CPO    | no access |
      | createSignedContractData           | MO     | access    |
      | createSignedContractData           | MO_V2G | no access |
      | createSignedContractData           | CPS    | no access |
      | createAndForwardSignedContractData | ADMIN  | no access |
      | createAndForwardSignedContractData | OEM    | no access |
      | createAndForwardSignedContractData | CPO    | no access |
      | createAndForwardSignedContractData | MO     | access    |
      | createAndForwardSignedContractData | MO_V2G | no access |
      | createAndForwardSignedContractData | CPS    | no access |
