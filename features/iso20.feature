@iso20
Feature: ISO 15118-20 contract provisioning
  OPCP 1.0.0 is "ISO15118-20 prepared": its xsdMsgDefNamespace fields take the -20 namespace,
  which the spec spells three ways (urn:iso:15118:20:2022:MsgDef, urn:iso:15118:20:2020:MsgDef,
  and ISO 15118-20's own urn:iso:std:iso:15118:-20:CommonMessages; erratum E-NS-1), and the
  CCP's emaidContent array is "a preparation for ISO15118-20". A -20 vehicle asks once, saying
  how many contracts it takes (MaximumContractCertificateChains) and which first
  (PrioritizedEMAIDs); the CCP answers one signed CertificateInstallationRes per contract, each
  counting the RemainingContractCertificateChains, and the vehicle takes them one exchange
  each, decrypting every contract key under the AAD of its PCID and the contract SKI
  (docs/iso20.md). An Ed448 vehicle's certificate carries an X448 key for that ECDHE
  ([V2G20-2534]), from the OEM's own PKI or asked for in its EST request; the EST refuses an
  Ed448 provisioning request without one. Not applicable to a target file without
  `iso20 = true` (the EST scenarios also to a target whose EST offers no ISO15118-20 ed448 CA).

  Background:
    Given the target takes ISO 15118-20
    And the ecosystem's ISO 15118-20 V2G root is in the pool
    And the suite's ISO 15118-20 OEM and MO roots are in the pool

  @rcp @normal
  Scenario Outline: A root is tagged with the -20 namespace spelled "<spelling>"
    Given I am "ADMIN"
    When the operator adds an ISO 15118-20 root tagged "<spelling>"
    Then the status is 200
    And the stored root is tagged with an ISO 15118-20 namespace

    Examples:
      | spelling                                 |
      | urn:iso:15118:20:2022:MsgDef             |
      | urn:iso:15118:20:2020:MsgDef             |
      | urn:iso:std:iso:15118:-20:CommonMessages |

  @pcp @critical
  Scenario Outline: An OEM publishes a -20 vehicle with the namespace spelled "<spelling>"
    Given I am "OEM"
    When the OEM publishes an ISO 15118-20 vehicle tagged "<spelling>"
    Then the status is 200
    And the pool answers the vehicle's -20 chain tagged with an ISO 15118-20 namespace

    Examples:
      | spelling                                 |
      | urn:iso:15118:20:2022:MsgDef             |
      | urn:iso:15118:20:2020:MsgDef             |
      | urn:iso:std:iso:15118:-20:CommonMessages |

  @ccp @blocker
  Scenario: Two -20 contracts reach one vehicle, one exchange each
    Given an ISO 15118-20 vehicle taking 2 contracts is in the pool
    And the MO signed 2 ISO 15118-20 contracts for it
    When the vehicle's ISO 15118-20 CertificateInstallationReq is sent
    Then the status is 200
    And the CCP answers 2 ISO 15118-20 CertificateInstallationRes
    And the vehicle installs every contract, counting the remaining ones down

  @ccp @critical
  Scenario: The vehicle's priorities and maximum are honoured
    Given an ISO 15118-20 vehicle taking 1 contract is in the pool
    And the MO signed 2 ISO 15118-20 contracts for it
    And the vehicle puts its second contract first
    When the vehicle's ISO 15118-20 CertificateInstallationReq is sent
    Then the status is 200
    And the CCP answers 1 ISO 15118-20 CertificateInstallationRes
    And the vehicle installs every contract, counting the remaining ones down
    And the vehicle installed its second contract

  @cps @critical
  Scenario: The CPS generates a -20 contract for a -20 vehicle
    Given an ISO 15118-20 vehicle taking 2 contracts is in the pool
    And the CPS generated an ISO 15118-20 contract for it
    When the vehicle's ISO 15118-20 CertificateInstallationReq is sent
    Then the status is 200
    And the CCP answers 1 ISO 15118-20 CertificateInstallationRes
    And the vehicle installs every contract, counting the remaining ones down

  @ccp @critical
  Scenario: An Ed448 vehicle of the OEM's own PKI decrypts its contracts with its X448 key
    Given an Ed448 ISO 15118-20 vehicle taking 2 contracts, from the OEM's own PKI, is in the pool
    And the pool serves the vehicle's certificate with its X448 key
    And the MO signed 2 ISO 15118-20 contracts for it
    When the vehicle's ISO 15118-20 CertificateInstallationReq is sent
    Then the status is 200
    And the CCP answers 2 ISO 15118-20 CertificateInstallationRes
    And every answer's contract key is agreed on the vehicle's X448 key
    And the vehicle installs every contract, counting the remaining ones down

  @est @critical
  Scenario: An Ed448 vehicle enrolled over EST decrypts its contracts with its X448 key
    Given an Ed448 ISO 15118-20 vehicle taking 2 contracts, enrolled over the target's EST, is in the pool
    And the pool serves the vehicle's certificate with its X448 key
    And the MO signed 2 ISO 15118-20 contracts for it
    When the vehicle's ISO 15118-20 CertificateInstallationReq is sent
    Then the status is 200
    And the CCP answers 2 ISO 15118-20 CertificateInstallationRes
    And every answer's contract key is agreed on the vehicle's X448 key
    And the vehicle installs every contract, counting the remaining ones down

  @est @normal
  Scenario: The EST refuses an Ed448 provisioning request without the vehicle's X448 key
    Given I am "OEM"
    When the OEM asks the target's EST for an Ed448 provisioning certificate without its X448 key
    Then the status is 400
