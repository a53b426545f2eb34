@ccp @story
Feature: Plug&Charge story
  The contract provisioning process of docs/02_PnC_business-processes.md, end to end, played
  by the simulated actors (simulators/) against the target: the OEM produces a vehicle and
  publishes its provisioning certificate, an MO concludes a contract for it, and the vehicle
  asks for the contract through a CPO backend, installing it only if every signature, chain
  and key checks out. Each scenario is one path a deployment must carry from end to end;
  the other features check the services one by one.

  Background:
    Given the operator registered the roots of the story's OEM and MO with their own PKIs

  @blocker
  Scenario: An MO with its own PKI provisions a vehicle of an OEM with its own PKI
    Given the OEM produced a vehicle with a provisioning certificate from its own PKI
    And the OEM published the vehicle to the pool
    When the MO with its own PKI looks up the vehicle and fetches its provisioning certificate
    Then the provisioning chain validates against the pool's OEM and V2G roots
    When the MO with its own PKI has the contract signed into the pool
    And the vehicle asks for its contract through the CPO backend
    Then the vehicle installs the contract of the MO with its own PKI

  @critical
  Scenario: The OEM enrolls the provisioning certificate over EST and the vehicle gets its contract
    Given the OEM produced a vehicle with a provisioning certificate enrolled over EST
    And the OEM published the vehicle to the pool
    When the MO with its own PKI looks up the vehicle and fetches its provisioning certificate
    Then the provisioning chain validates against the pool's OEM and V2G roots
    When the MO with its own PKI has the contract signed into the pool
    And the vehicle asks for its contract through the CPO backend
    Then the vehicle installs the contract of the MO with its own PKI

  @blocker
  Scenario: An MO using the V2G PKI has the contract generated and the vehicle installs it
    Given the OEM produced a vehicle with a provisioning certificate from its own PKI
    And the OEM published the vehicle to the pool
    When the MO using the V2G PKI has a contract for the vehicle generated
    And the vehicle asks for its contract through the CPO backend
    Then the vehicle installs the contract of the MO using the V2G PKI

  @critical
  Scenario: The OEM pulls the contracts of two MOs and chooses the one the vehicle gets
    Given the OEM produced a vehicle with a provisioning certificate from its own PKI
    And the OEM published the vehicle to the pool
    And the MO with its own PKI has a contract for the vehicle
    And the MO using the V2G PKI has a contract for the vehicle
    When the OEM pulls the vehicle's contracts
    Then the vehicle can install each contract the OEM pulled
    And the contract of the MO with its own PKI is the vehicle's default
    When the OEM makes the contract of the MO using the V2G PKI the default
    And the vehicle asks for its contract through the CPO backend
    Then the vehicle installs the contract of the MO using the V2G PKI
    When the OEM makes the contract of the MO with its own PKI the default
    And the vehicle asks for its contract through the CPO backend
    Then the vehicle installs the contract of the MO with its own PKI

  @critical
  Scenario: The OEM backend hears of a new contract, pulls it and can install it over the air
    Given the OEM produced a vehicle with a provisioning certificate from its own PKI
    And the OEM published the vehicle to the pool
    And the OEM listens to webhook events
    When the MO using the V2G PKI has a contract for the vehicle generated
    Then the OEM pulls the contract of the MO using the V2G PKI after a signed event
    And the vehicle installs the contract the OEM pulled of the MO using the V2G PKI

  @critical
  Scenario: A factory reset voids the MO's contract and the vehicle's next request fails
    Given the OEM produced a vehicle with a provisioning certificate from its own PKI
    And the OEM published the vehicle to the pool
    And the MO with its own PKI has a contract for the vehicle
    And the MO with its own PKI listens to webhook events
    When the vehicle asks for its contract through the CPO backend
    Then the vehicle installs the contract of the MO with its own PKI
    When the OEM factory-resets the vehicle
    Then the MO with its own PKI learns from a signed event that its contract is void
    When the vehicle asks for its contract through the CPO backend
    Then the vehicle gets a failed CertificateInstallationRes

  @critical
  Scenario: A charging station gets the contract through the OCPP 2.0.1 CSMS
    Given the OEM produced a vehicle with a provisioning certificate from its own PKI
    And the OEM published the vehicle to the pool
    And the MO using the V2G PKI has a contract for the vehicle
    When the vehicle asks for its contract through a charging station and the CSMS
    Then the vehicle installs the contract of the MO using the V2G PKI
