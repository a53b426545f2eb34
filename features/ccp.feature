@ccp
Feature: Contract Certificate Pool
  Signed contract data waits in the pool until the vehicle asks for it: the CPO forwards the
  vehicle's signed CertificateInstallationReq and gets the PCID's default contract, signed
  under a V2G root the vehicle lists. OEMs pull and choose the default, MOs look up and
  delete their contracts; a deleted provisioning certificate takes its contracts along
  (docs/components/04, reference/ccp.v1.json).

  Background:
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool

  @blocker
  Scenario: The vehicle gets data signed under the only V2G root it trusts
    Given I am "MO"
    When I sign contract data for the vehicle's first contract under the first CPS signer
    Then the status is 201
    When I sign contract data for the vehicle's first contract under the second CPS signer
    Then the status is 201
    Given the vehicle trusts only the second CPS signer's V2G root
    And I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the body is a valid "GetSignedContractDataResponse"
    And the answer is signed under the second CPS signer's V2G root
    And the vehicle installs the first contract

  # reference/ccp.v1.json getSignedContractData, "Default Contract": "The CCP will provide
  # in the ISO15118-2 just one item back - the Contract which is set to Default!"
  @blocker
  Scenario: The first contract is the default until the OEM chooses another
    Given the MO signed 2 contracts for the vehicle
    And I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the answer holds exactly one emaidContent
    And the vehicle installs the first contract
    Given I am "OEM"
    When I list the vehicle's contracts
    Then the status is 200
    And the body is a valid "LookupContractResponse"
    And the first contract is the vehicle's default
    When I set the second contract as the default
    Then the status is 200
    When I list the vehicle's contracts
    Then the second contract is the vehicle's default
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the answer holds exactly one emaidContent
    And the vehicle installs the second contract

  @critical @rule:CCP-FIRST-EMAIDCONTENT
  Scenario: A CPO that reads only the first emaidContent gets the default contract
    Given the MO signed 2 contracts for the vehicle
    And I am "OEM"
    When I set the second contract as the default
    Then the status is 200
    And a CPO reading only the first emaidContent installs the second contract

  @critical
  Scenario: The OEM pulls a contract without a vehicle request
    Given the MO signed 2 contracts for the vehicle
    And I am "OEM"
    When I pull the second contract
    Then the status is 200
    And the body is a valid "ProvideContractDataResponse"
    And the vehicle installs the second contract

  @critical
  Scenario: The owning MO looks up and deletes its contract
    Given the MO signed 2 contracts for the vehicle
    And I am "MO"
    When I look up the first contract
    Then the status is 200
    And the body is a valid "LookupContractResponse"
    When I delete the first contract
    Then the status is 200
    And the MO finds the first contract no more
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the vehicle installs the second contract

  # What the pool holds it lists, and what it lists it serves (ccp.v1.json getContracts,
  # provideSignedContractData): contracts under each CPS signer's V2G root alike.
  @normal @rule:CCP-LISTING-CONSISTENT
  Scenario: Every contract of the vehicle is listed to its OEM, and every listed one can be pulled
    Given the suite's MO root is in the pool
    And a vehicle of the first "OEM" is in the pool
    And I am "MO"
    When the MO signs a contract for the vehicle under each listed CPS signer's V2G root
    Given I am "OEM"
    When I list the vehicle's contracts
    Then the status is 200
    And every contract signed for the vehicle is listed, and every listed one can be pulled

  # ccp.v1.json declares 403 and 404 for both operations: either denies the access
  # (docs/04_authentication.md); conformant variant ccp-foreign-contract-404.
  @critical @rule:CCP-EMAID-OWNER
  Scenario: Another MO may neither look up nor delete the contract
    Given the MO signed 1 contracts for the vehicle
    And I am the second "MO"
    When I look up the first contract
    Then the status is one of 403, 404
    When I delete the first contract
    Then the status is one of 403, 404
    And the body is the spec's Error with a traceId
    And the MO still finds the first contract

  # docs/05_handling-of-ids.md (EMAID): the optional separators and either case are allowed;
  # "the system will normalize to the form above (no seperators and captial letters)".
  @normal @rule:CCP-EMAID-NORMAL
  Scenario: An EMAID with hyphens and in lower case names the same contract
    Given the MO signed 1 contracts for the vehicle
    And I am "MO"
    When I look up the first contract by its EMAID with hyphens in lower case
    Then the status is 200
    And the body lists the first contract's EMAID in its normal form
    When I delete the first contract by its EMAID with hyphens in lower case
    Then the status is 200
    And the MO finds the first contract no more

  # reference/ccp.v1.json: emaid must match ^[A-Za-z]{2}[-]?\w{3}[-]?\w{9}[-]?(\w{1})?$
  # (deleteSignedContractData's 400 example "emaid : must match"); the EMAIDs start with the
  # caller's own prefix, so no authorization rule can answer first.
  @normal @rule:CCP-EMAID-PATTERN
  Scenario Outline: An EMAID of my prefix <problem> is refused with 400
    Given I am "MO"
    When I look up a contract by an EMAID of my prefix <problem>
    Then the status is 400
    And the body is the spec's Error with a traceId
    When I delete a contract by an EMAID of my prefix <problem>
    Then the status is 400
    And the body is the spec's Error with a traceId

    Examples:
      | problem                          |
      | with 4 instance characters       |
      | with 13 instance characters      |

  @critical
  Scenario: Deleting the vehicle's provisioning certificate deletes its contracts
    Given the MO signed 2 contracts for the vehicle
    When the first "OEM" deletes the vehicle's provisioning certificate
    Then the MO finds the first contract no more
    And the MO finds the second contract no more

  # reference/ccp.v1.json deleteSignedContractData, "Automatic revocation": a contract
  # certificate issued by an operator MO CA is revoked on delete; on error the contract stays.
  @critical @rule:CCP-AUTO-REVOCATION
  Scenario: Deleting a contract the operator's MO CA issued revokes its certificate
    Given I am "MO_V2G"
    When I generate signed contract data for a new EMAID of mine for the vehicle
    Then the status is 201
    When the vehicle installs its contract through its CPO
    Then the installed contract certificate's OCSP status is "good"
    Given I am "MO_V2G"
    When I delete the first contract
    Then the status is 200
    And I find the first contract no more
    And the installed contract certificate's OCSP status is "revoked"

  # The same section: "This functionality can be turned of by setting the
  # `X-Skip-Revocation` header to `true`."
  @normal @rule:CCP-AUTO-REVOCATION
  Scenario: X-Skip-Revocation deletes a contract without revoking its certificate
    Given I am "MO_V2G"
    When I generate signed contract data for a new EMAID of mine for the vehicle
    Then the status is 201
    When the vehicle installs its contract through its CPO
    Given I am "MO_V2G"
    When I delete the first contract with the header "X-Skip-Revocation: true"
    Then the status is 200
    And I find the first contract no more
    And the installed contract certificate's OCSP status is "good"

  # reference/ccp.v1.json getSignedContractData: the CCP answers the vehicle's request with a
  # certificateInstallationResponse "to be forwarded to the vehicle", which takes it only in
  # its own session (ISO 15118-2 MessageHeader SessionID), for the PCID of its
  # OEMProvisioningCert.
  @critical @rule:CCP-OWN-SESSION
  Scenario: Each vehicle gets its own contract under the SessionID of its request
    Given the MO signed 1 contracts for the vehicle
    And another vehicle of the first "OEM" has a contract of the MO
    And I am "CPO"
    When the vehicle's CertificateInstallationReq is sent with the SessionID "1A2B3C4D5E6F7081"
    Then the status is 200
    And the answer carries the SessionID "1A2B3C4D5E6F7081"
    And the vehicle installs the first contract
    When the other vehicle's CertificateInstallationReq is sent with the SessionID "0102030405060708"
    Then the status is 200
    And the answer carries the SessionID "0102030405060708"
    And the other vehicle installs its own contract

  @critical
  Scenario: Without a contract the CPO gets a failed CertificateInstallationRes
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 404
    And the answer holds a failed CertificateInstallationRes
    When the vehicle's CertificateInstallationReq is sent with the header "alwaysReturnEXI: false"
    Then the status is 404
    And the body is the spec's Error with a traceId

  @critical
  Scenario: A request of a vehicle the pool does not hold gets no contract
    Given the MO signed 1 contracts for the vehicle
    And I am "CPO"
    When the CertificateInstallationReq of a vehicle the pool does not hold is sent
    Then the status is 404

  @critical @rule:CCP-REQUEST-SIGNATURE
  Scenario: A request whose signature does not verify gets no contract
    Given the MO signed 1 contracts for the vehicle
    And I am "CPO"
    When a CertificateInstallationReq signed with another key than its certificate's is sent
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the error message mentions "signature"

  @normal
  Scenario: EXI garbage is refused naming the bit offset
    Given I am "CPO"
    When EXI garbage is sent as the CertificateInstallationReq
    Then the status is 400
    And the body is the spec's Error with a traceId
    And the EXI error names the bit offset

  @critical
  Scenario: A CPS pools signed data and the vehicle installs it
    Given I am "MO"
    When I sign contract data for a new EMAID of mine without a PCID
    Then the status is 201
    Given I am "CPS"
    When I pool the signed data
    Then the status is 201
    Given I am "CPO"
    When the vehicle's CertificateInstallationReq is sent
    Then the status is 200
    And the vehicle installs the first contract

  @critical @rule:CCP-REQUEST-SIGNATURE
  Scenario: Signed data with a forged signature is not pooled
    Given I am "MO"
    When I sign contract data for a new EMAID of mine without a PCID
    Then the status is 201
    Given I am "CPS"
    When I pool the signed data with another signature value
    Then the status is 400
    And the error message mentions "signature"
    And the pool holds no contract for the vehicle

  @blocker
  Scenario Outline: Role table: <role> on <operation> has <expected>
    Given I am "<role>"
    When I probe the operation "<operation>"
    Then the role table says "<expected>" for <role> on <operation>
    And the answer is "<expected>"

    Examples:
      | operation                 | role   | expected  |
      | getSignedContractData     | ADMIN  | no access |
      | getSignedContractData     | OEM    | no access |
      | getSignedContractData     | CPO    | access    |
      | getSignedContractData     | MO     | no access |
      | getSignedContractData     | MO_V2G | no access |
      | getSignedContractData     | CPS    | no access |
      | addSignedContractData     | ADMIN  | no access |
      | addSignedContractData     | OEM    | no access |
      | addSignedContractData     | CPO    | no access |
      | addSignedContractData     | MO     | access    |
      | addSignedContractData     | MO_V2G | no access |
      | addSignedContractData     | CPS    | access    |
      | deleteSignedContractData  | ADMIN  | no access |
      | deleteSignedContractData  | OEM    | no access |
      | deleteSignedContractData  | CPO    | no access |
      | deleteSignedContractData  | MO     | access    |
      | deleteSignedContractData  | MO_V2G | access    |
      | deleteSignedContractData  | CPS    | no access |
      | provideSignedContractData | ADMIN  | no access |
      | provideSignedContractData | OEM    | access    |
      | provideSignedContractData | CPO    | no access |
      | provideSignedContractData | MO     | no access |
      | provideSignedContractData | MO_V2G | no access |
      | provideSignedContractData | CPS    | no access |
      | setDefaultContract        | ADMIN  | no access |
      | setDefaultContract        | OEM    | access    |
      | setDefaultContract        | CPO    | no access |
      | setDefaultContract        | MO     | no access |
      | setDefaultContract        | MO_V2G | no access |
      | setDefaultContract        | CPS    | no access |
      | lookupContract            | ADMIN  | no access |
      | lookupContract            | OEM    | no access |
      | lookupContract            | CPO    | no access |
      | lookupContract            | MO     | access    |
      | lookupContract            | MO_V2G | access    |
      | lookupContract            | CPS    | no access |
      | getContracts              | ADMIN  | no access |
      | getContracts              | OEM    | access    |
      | getContracts              | CPO    | no access |
      | getContracts              | MO     | no access |
      | getContracts              | MO_V2G | no access |
      | getContracts              | CPS    | no access |
