"""What a request for a given resource must carry (DOMAIN.md, "What a request carries").

One source of truth: the form marks and checks these fields, and the service refuses a
submission that lacks any of them even when the form was bypassed.
"""

from flask_babel import lazy_gettext as _l

from rrc.models import BookingMode, DocumentType, Resource, ResourceKind, ResourceRequest

COMMON = ("title", "purpose", "principal_investigator", "payer", "billing_contact", "billing_email")


def blocks(resource: Resource) -> set[str]:
    """The form blocks that apply to requests for ``resource``."""
    applies = {"common"}
    if resource.booking_mode == BookingMode.QUANTITY:
        applies.add("quantity")
    else:
        applies.add("slot")
    if resource.is_hazardous:
        applies.add("biosafety")
    if resource.human_specimen:
        applies.add("irb")
    if resource.animal_work:
        applies.add("iacuc")
    if resource.kind == ResourceKind.MATERIAL:
        applies.add("material")
    if resource.kind == ResourceKind.SERVICE:
        applies.add("service")
    return applies


def needs_ibc(resource: Resource) -> bool:
    """IBC approval is required for BSL-3 work, high-risk pathogens and GMOs."""
    return resource.biosafety_level >= 3 or resource.high_risk_pathogen or resource.gmo


def required_fields(resource: Resource) -> list[str]:
    """Names of the fields a submission must fill for ``resource``."""
    applies = blocks(resource)
    fields = list(COMMON)
    if "quantity" in applies:
        fields.append("quantity")
    if "slot" in applies:
        fields += ["requested_minutes", "preferred_dates", "usage_mode"]
    if "biosafety" in applies:
        fields += ["agent_name", "risk_group"]
        if needs_ibc(resource):
            fields += ["ibc_approval_number", "ibc_approval_date"]
        if resource.training_requirement:
            fields.append("training_evidence")
    if "irb" in applies:
        fields += ["irb_approval_number", "use_plan"]
    if "iacuc" in applies:
        fields += ["iacuc_protocol_number", "species", "animal_count"]
    if "material" in applies:
        fields += [
            "material_form",
            "shipping_address",
            "shipping_country",
            "receiving_person",
            "receiving_phone",
        ]
    if "service" in applies:
        fields += ["samples_description", "desired_timeline", "deliverables"]
    return fields


def missing_for_submission(resource_request: ResourceRequest) -> dict[str, str]:
    """Field name → message for everything a submission still lacks (empty when complete)."""
    resource = resource_request.resource
    problems: dict[str, str] = {}
    for name in required_fields(resource):
        value = getattr(resource_request, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems[name] = str(_l("Required for this resource."))
    if resource_request.quantity is not None and resource_request.quantity <= 0:
        problems["quantity"] = str(_l("Enter a whole number of at least 1."))
    if resource_request.requested_slots:
        # Sessions chosen on the calendar replace the free-text time request.
        problems.pop("requested_minutes", None)
        problems.pop("preferred_dates", None)
    elif "slot" in blocks(resource) and resource_request.requested_minutes:
        minutes = resource_request.requested_minutes
        if minutes < resource.min_duration_minutes or minutes > resource.max_duration_minutes:
            problems["requested_minutes"] = str(
                _l(
                    "Sessions of this resource last between %(low)d and %(high)d minutes.",
                    low=resource.min_duration_minutes,
                    high=resource.max_duration_minutes,
                )
            )
    if resource_request.risk_group is not None and not 1 <= resource_request.risk_group <= 4:
        problems["risk_group"] = str(_l("Risk groups run from 1 to 4."))
    if "material" in blocks(resource) and resource_request.mta_accepted_at is None:
        problems["accept_mta"] = str(_l("Accept the material transfer terms to request material."))
    if resource_request.terms_accepted_at is None:
        problems["accept_terms"] = str(_l("Accept the terms of use of this resource."))
    present = {attachment.document_type for attachment in resource_request.attachments}
    for document in resource.document_types:
        if document not in present:
            problems[f"document:{document.value}"] = str(_l("Upload this document."))
    return problems


def missing_documents(resource_request: ResourceRequest) -> list[DocumentType]:
    """Required document types without an upload yet."""
    present = {attachment.document_type for attachment in resource_request.attachments}
    return [
        document for document in resource_request.resource.document_types if document not in present
    ]


def needs_export_check(resource_request: ResourceRequest) -> bool:
    """Foreign-bound shipments of pathogens need an export-control check by staff."""
    resource = resource_request.resource
    return (
        resource.kind == ResourceKind.MATERIAL
        and (resource.high_risk_pathogen or resource.biosafety_level >= 2)
        and bool(resource_request.shipping_country)
        and resource_request.shipping_country != "KR"
    )
