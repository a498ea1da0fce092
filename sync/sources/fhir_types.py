"""The FHIR R4 (4.0.1) resource type names, and which of them hold one patient's data.

Pure data. `RESOURCE_TYPES` validates `resourceType` while reading a source; the other sets tell
the importer (sync.staging) where a resource goes: into the patient's compartment, into the small
in-memory index of shared resources, or nowhere (counted only).
"""

from __future__ import annotations

_R4_NAMES = """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis
    Encounter Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
    EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal
    GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
    ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice
    Library Linkage List Location Measure MeasureReport Media Medication MedicationAdministration
    MedicationDispense MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
    MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
    MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
    MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person
    PlanDefinition Practitioner PractitionerRole Procedure Provenance Questionnaire
    QuestionnaireResponse RelatedPerson RequestGroup ResearchDefinition ResearchElementDefinition
    ResearchStudy ResearchSubject RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter
    ServiceRequest Slot Specimen SpecimenDefinition StructureDefinition StructureMap Subscription
    Substance SubstanceNucleicAcid SubstancePolymer SubstanceProtein
    SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification SupplyDelivery
    SupplyRequest Task TerminologyCapabilities TestReport TestScript ValueSet VerificationResult
    VisionPrescription
"""
RESOURCE_TYPES: frozenset[str] = frozenset(_R4_NAMES.split())

# Where each patient-compartment type names its patient (R4 CompartmentDefinition "patient",
# reduced to the direct reference elements), tried in order. A resource of these types whose
# element points at a Patient goes into that patient's staging bucket.
PATIENT_REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    # The billing case (ISiKAbrechnungsfall): its identifier is the Fallnummer an Encounter's
    # `account` links to. `subject` is a list here; the first Patient in it counts.
    "Account": ("subject",),
    "AdverseEvent": ("subject",),
    "AllergyIntolerance": ("patient",),
    "BodyStructure": ("patient",),
    "CarePlan": ("subject",),
    "CareTeam": ("subject",),
    "ClinicalImpression": ("subject",),
    "Communication": ("subject",),
    "CommunicationRequest": ("subject",),
    "Composition": ("subject",),
    "Condition": ("subject",),
    "Consent": ("patient",),
    "DetectedIssue": ("patient",),
    "Device": ("patient",),
    "DeviceRequest": ("subject",),
    "DeviceUseStatement": ("subject",),
    "DiagnosticReport": ("subject",),
    "DocumentManifest": ("subject",),
    "DocumentReference": ("subject",),
    "Encounter": ("subject",),
    "EpisodeOfCare": ("patient",),
    "FamilyMemberHistory": ("patient",),
    "Flag": ("subject",),
    "Goal": ("subject",),
    "ImagingStudy": ("subject",),
    "Immunization": ("patient",),
    "ImmunizationEvaluation": ("patient",),
    "ImmunizationRecommendation": ("patient",),
    "List": ("subject",),
    "Media": ("subject",),
    "MedicationAdministration": ("subject",),
    "MedicationDispense": ("subject",),
    "MedicationRequest": ("subject",),
    "MedicationStatement": ("subject",),
    "MolecularSequence": ("patient",),
    "NutritionOrder": ("patient",),
    "Observation": ("subject",),
    "Procedure": ("subject",),
    "QuestionnaireResponse": ("subject",),
    "RelatedPerson": ("patient",),
    "RiskAssessment": ("subject",),
    "ServiceRequest": ("subject",),
    "Specimen": ("subject",),
    "Task": ("for",),
    "VisionPrescription": ("patient",),
}

# Shared resources that mapping resolves references to. They are small (a hospital has
# thousands, not millions), so the importer keeps them in memory.
SHARED_TYPES: frozenset[str] = frozenset(
    {
        "Location",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Medication",
        "Substance",
        "HealthcareService",
        "Device",  # a Device without a patient (a monitor, a pump) is shared
        "Group",
    }
)

# Patient data a downtime viewer never shows (billing, audit trails): read and counted, but not
# staged, which saves a third of the work on Synthea data.
IGNORED_PATIENT_TYPES: frozenset[str] = frozenset(
    {
        "AuditEvent",
        "ChargeItem",
        "Claim",
        "ClaimResponse",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "ExplanationOfBenefit",
        "Invoice",
        "PaymentNotice",
        "PaymentReconciliation",
        "Provenance",
    }
)
