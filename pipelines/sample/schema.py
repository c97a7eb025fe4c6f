"""The sample council's case-management database: a Mosaic-like social care schema.

It holds the council's *local* codes and picklists (``lookup_codes``), never CLD values, so the
transform's mapping tables (``data/sample/mappings/``) do real work. A real council's Mosaic
differs; the extract SQL in ``sql/extract/`` is the only place that knows these table names.

Declared once with SQLAlchemy Core so the same DDL renders for SQLite (the embedded sample),
PostgreSQL (tests, benchmarks) and SQL Server 2016+ (a council's test server).

Workflow steps follow Mosaic's idea: every piece of work on a person is a step with a type,
a status and start/completion dates; detail tables hang off the step for contacts (requests),
assessments and reviews. Services are separate service agreements (care packages).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

metadata = MetaData()

# Local picklists: code_type names which list (e.g. 'GENDER', 'ETHNICITY', 'ROUTE'),
# code is the council's own code, description its label. Mapping tables refer to these codes.
lookup_codes = Table(
    "lookup_codes",
    metadata,
    Column("code_type", String(30), primary_key=True),
    Column("code", String(20), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

persons = Table(
    "persons",
    metadata,
    Column("person_id", Integer, primary_key=True),  # LA_Person_Unique_Identifier
    Column("nhs_number", String(10)),  # may be missing or wrong
    Column("first_name", String(60)),
    Column("last_name", String(60)),
    Column("date_of_birth", Date),
    Column("date_of_death", Date),
    Column("gender_code", String(20)),  # lookup GENDER
    Column("ethnicity_code", String(20)),  # lookup ETHNICITY
    Column("created_on", Date, nullable=False),
)

person_addresses = Table(
    "person_addresses",
    metadata,
    Column("address_id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("postcode", String(10)),
    Column("accommodation_code", String(20)),  # lookup ACCOMMODATION
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Index("ix_addresses_person", "person_id"),
)

gp_practices = Table(
    "gp_practices",
    metadata,
    Column("practice_code", String(10), primary_key=True),  # ODS code
    Column("practice_name", String(120), nullable=False),
)

person_gp_registrations = Table(
    "person_gp_registrations",
    metadata,
    Column("registration_id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("practice_code", String(10), ForeignKey("gp_practices.practice_code")),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Index("ix_gp_person", "person_id"),
)

# Disability / condition flags (autism, visual, hearing, dementia), as recorded over time.
person_conditions = Table(
    "person_conditions",
    metadata,
    Column("condition_id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("condition_code", String(20), nullable=False),  # lookup CONDITION
    Column("recorded_on", Date, nullable=False),
    Index("ix_conditions_person", "person_id"),
)

# Primary support reason history (latest known is used on every row).
person_support_reasons = Table(
    "person_support_reasons",
    metadata,
    Column("psr_id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("psr_code", String(20), nullable=False),  # lookup PSR
    Column("start_date", Date, nullable=False),
    Index("ix_psr_person", "person_id"),
)

person_employment = Table(
    "person_employment",
    metadata,
    Column("employment_id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("employment_code", String(20), nullable=False),  # lookup EMPLOYMENT
    Column("start_date", Date, nullable=False),
    Index("ix_employment_person", "person_id"),
)

teams = Table(
    "teams",
    metadata,
    Column("team_id", Integer, primary_key=True),
    Column("team_name", String(100), nullable=False),
    Column("service_area", String(50)),  # e.g. 'Older People', 'Learning Disability'
)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.team_id"), nullable=False),
    Column("worker_name", String(100), nullable=False),
    Column("email", String(120)),
)

# Who owns each client over time.
allocations = Table(
    "allocations",
    metadata,
    Column("allocation_id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("team_id", Integer, ForeignKey("teams.team_id"), nullable=False),
    Column("worker_id", Integer, ForeignKey("workers.worker_id")),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Index("ix_allocations_person", "person_id"),
)

# Every piece of work: contacts, assessments (incl. out-of-scope safeguarding, DoLS, MCA, MHA),
# reviews. step_type_code: lookup STEP_TYPE. status: lookup STEP_STATUS
# ('COMP' completed, 'OPEN' in progress, 'CANC' cancelled, 'ERR' recorded in error).
workflow_steps = Table(
    "workflow_steps",
    metadata,
    Column("step_id", Integer, primary_key=True),  # Event_Reference, workflow step locator
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("step_type_code", String(20), nullable=False),
    Column("status_code", String(10), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("completed_on", Date),
    Column("outcome_code", String(20)),  # lookup OUTCOME (the intended next step / NFA reason)
    Column("worker_id", Integer, ForeignKey("workers.worker_id")),
    Column("team_id", Integer, ForeignKey("teams.team_id")),
    Column("previous_step_id", Integer),  # the step this one followed from (journey chain)
    Column("is_carer_step", Boolean, nullable=False, default=False),  # carer's own step
    Index("ix_steps_person", "person_id"),
    Index("ix_steps_completed", "completed_on"),
)

# Requests: how the contact came in.
step_contact_details = Table(
    "step_contact_details",
    metadata,
    Column("step_id", Integer, ForeignKey("workflow_steps.step_id"), primary_key=True),
    Column("route_code", String(20)),  # lookup ROUTE
    Column("contact_source", String(60)),
    Column("description", String(200)),  # free text -> Event_Description
)

# Assessments: eligibility, who took part, funding status set by financial assessments.
step_assessment_details = Table(
    "step_assessment_details",
    metadata,
    Column("step_id", Integer, ForeignKey("workflow_steps.step_id"), primary_key=True),
    Column("eligible_code", String(10)),  # lookup YESNO
    Column("method_code", String(20)),  # lookup METHOD
    Column("funding_status_code", String(20)),  # lookup FUNDING (financial assessments only)
)

step_review_details = Table(
    "step_review_details",
    metadata,
    Column("step_id", Integer, ForeignKey("workflow_steps.step_id"), primary_key=True),
    Column("review_reason_code", String(20)),  # lookup REVIEW_REASON
    Column("method_code", String(20)),  # lookup METHOD
    Column("outcomes_code", String(20)),  # lookup OUTCOMES_MET
)

providers = Table(
    "providers",
    metadata,
    Column("provider_id", Integer, primary_key=True),
    Column("provider_name", String(120), nullable=False),
    Column("cqc_location_id", String(20)),  # '1-' + digits when CQC registered
    Column("cqc_location_name", String(120)),
)

# Care packages / service agreements: one line per service component.
# status_code: lookup SERVICE_STATUS ('ACT' active, 'END' ended, 'SUSP' suspended,
# 'CANC' cancelled before delivery, 'ERR' recorded in error).
service_agreements = Table(
    "service_agreements",
    metadata,
    Column("agreement_id", Integer, primary_key=True),  # Event_Reference for services
    Column("person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("service_code", String(20), nullable=False),  # lookup SERVICE (type + component)
    Column("provider_id", Integer, ForeignKey("providers.provider_id")),
    Column("delivery_code", String(20)),  # lookup DELIVERY (DP / managed PB / commissioned)
    Column("status_code", String(10), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("suspended_on", Date),
    Column("end_reason_code", String(20)),  # lookup OUTCOME
    Column("unit_cost", Numeric(10, 2)),
    Column("cost_frequency_code", String(10)),  # lookup COST_FREQUENCY
    Column("planned_units_per_week", Numeric(8, 2)),
    Column("for_carer", Boolean, nullable=False, default=False),  # a carer's own service
    Column("cared_for_person_id", Integer),  # carer support involving the cared-for person
    Column("source_step_id", Integer),  # the assessment/review that set it up
    Index("ix_services_person", "person_id"),
)

# Carer <-> cared-for relationships. hours_caring_code: lookup CARING_HOURS.
carer_relationships = Table(
    "carer_relationships",
    metadata,
    Column("relationship_id", Integer, primary_key=True),
    Column("carer_person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("cared_for_person_id", Integer, ForeignKey("persons.person_id"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("hours_caring_code", String(20)),
    Index("ix_carers_carer", "carer_person_id"),
    Index("ix_carers_cared_for", "cared_for_person_id"),
)
