"""How common CRM exports name things: file names → canonical tables, headers → columns.

Names are compared in a normal form (lower case, letters and digits only), so that
``Created Date``, ``CreatedDate``, ``created_date`` and ``created-date`` are one name. The
lists come from the export formats of Salesforce (``Account.csv``, ``CreatedDate``,
``StageName``), HubSpot (``companies``, ``Create Date``, ``Deal Stage``), Pipedrive
(``organizations``, ``persons``, ``add_time``) and Zoho (``Potentials``, ``Created Time``).
A header that matches nothing stays a custom attribute.
"""

from __future__ import annotations

import re

# File stem (normal form, plural or singular) -> canonical table.
TABLE_OF_FILE = {
    "accounts": "accounts",
    "account": "accounts",
    "companies": "accounts",
    "company": "accounts",
    "organizations": "accounts",
    "organization": "accounts",
    "organisations": "accounts",
    "orgs": "accounts",
    "customers": "accounts",
    "contacts": "contacts",
    "contact": "contacts",
    "persons": "contacts",
    "person": "contacts",
    "people": "contacts",
    "leads": "leads",
    "lead": "leads",
    "prospects": "leads",
    "opportunities": "opportunities",
    "opportunity": "opportunities",
    "deals": "opportunities",
    "deal": "opportunities",
    "potentials": "opportunities",
    "pipeline": "opportunities",
    "opportunityhistory": "opportunity_stage_history",
    "opportunitystagehistory": "opportunity_stage_history",
    "opportunityfieldhistory": "opportunity_stage_history",
    "dealhistory": "opportunity_stage_history",
    "dealstagehistory": "opportunity_stage_history",
    "stagehistory": "opportunity_stage_history",
    "dealflow": "opportunity_stage_history",
    "activities": "activities",
    "activity": "activities",
    "tasks": "activities",
    "task": "activities",
    "calls": "activities",
    "meetings": "activities",
    "engagements": "activities",
    "campaigns": "campaigns",
    "campaign": "campaigns",
    "campaignmembers": "campaign_members",
    "campaignmember": "campaign_members",
    "subscriptions": "subscriptions",
    "subscription": "subscriptions",
    "contracts": "subscriptions",
    "invoices": "invoices",
    "invoice": "invoices",
    "tickets": "tickets",
    "ticket": "tickets",
    "cases": "tickets",
    "case": "tickets",
    "users": "users",
    "user": "users",
    "owners": "users",
    "teams": "teams",
    "team": "teams",
    "events": "events",
    "webevents": "events",
    "tracking": "events",
    "pageviews": "events",
    "sessions": "events",
}

_CREATED = ("createddate", "createdat", "createdate", "createdtime", "created", "addtime",
            "dateadded", "creationdate", "createdon")  # fmt: skip
_UPDATED = ("lastmodifieddate", "updatedat", "lastmodified", "modifiedtime", "modifiedat",
            "updatetime", "lastupdated", "modifieddate", "lastmodifiedat", "systemmodstamp")  # fmt: skip
_OWNER = ("ownerid", "owner", "ownername", "assignedto", "recordowner", "salesrep")
_ACCOUNT = ("accountid", "account", "accountname", "companyid", "organizationid", "orgid",
            "associatedcompanyid", "organization", "orgname")  # fmt: skip

# Canonical table -> canonical column -> header names it goes by (normal form). The key
# column also answers to a bare ``id``.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "teams": {
        "team_id": ("teamid", "id"),
        "name": ("teamname", "name"),
        "region": ("region",),
        "manager_user_id": ("managerid", "manageruserid", "manager"),
    },
    "users": {
        "user_id": ("userid", "id"),
        "name": ("name", "fullname", "username"),
        "email": ("email", "emailaddress"),
        "team_id": ("teamid", "team"),
        "role": ("role", "userrole", "profile"),
        "active": ("active", "isactive"),
    },
    "accounts": {
        "account_id": ("accountid", "companyid", "organizationid", "recordid", "id"),
        "name": ("name", "accountname", "companyname", "organizationname"),
        "domain": ("website", "domain", "companydomainname", "domainname"),
        "industry": ("industry",),
        "employee_count": ("numberofemployees", "employees", "employeecount", "headcount"),
        "annual_revenue": ("annualrevenue", "revenue"),
        "country": ("billingcountry", "country", "countryregion"),
        "region": ("region", "billingstate", "state", "territory"),
        "parent_account_id": ("parentid", "parentaccountid", "parentcompanyid"),
        "owner_user_id": ("accountowner", "companyowner", *_OWNER),
        "account_type": ("type", "accounttype"),
        "tier": ("tier", "customertier", "segment"),
        "created_at": _CREATED,
        "updated_at": _UPDATED,
    },
    "contacts": {
        "contact_id": ("contactid", "personid", "recordid", "id"),
        "account_id": _ACCOUNT,
        "first_name": ("firstname", "givenname"),
        "last_name": ("lastname", "surname", "familyname"),
        "email": ("email", "emailaddress", "primaryemail"),
        "phone": ("phone", "phonenumber", "mobilephone", "mobile"),
        "title": ("title", "jobtitle"),
        "seniority": ("seniority", "level"),
        "lifecycle_stage": ("lifecyclestage",),
        "lead_source": ("leadsource", "source", "originalsource"),
        "do_not_contact": ("donotcall", "donotcontact"),
        "created_at": _CREATED,
        "updated_at": _UPDATED,
    },
    "leads": {
        "lead_id": ("leadid", "recordid", "id"),
        "contact_id": ("convertedcontactid", "contactid"),
        "account_id": ("convertedaccountid", "accountid"),
        "company": ("company", "companyname", "organization", "organizationname"),
        "email": ("email", "emailaddress"),
        "source": ("leadsource", "source", "originalsource", "channel"),
        "status": ("status", "leadstatus", "hsleadstatus"),
        "owner_user_id": ("leadowner", *_OWNER),
        "created_at": _CREATED,
        "converted_at": ("converteddate", "convertedat", "conversiondate"),
        "converted_opportunity_id": ("convertedopportunityid", "converteddealid"),
        "disqualified_at": ("disqualifieddate", "disqualifiedat", "lostdate"),
        "disqualified_reason": ("disqualifiedreason", "disqualificationreason", "lostreason"),
        "updated_at": _UPDATED,
    },
    "opportunities": {
        "opportunity_id": ("opportunityid", "dealid", "potentialid", "recordid", "id"),
        "account_id": _ACCOUNT,
        "owner_user_id": ("opportunityowner", "dealowner", *_OWNER),
        "name": ("name", "opportunityname", "dealname", "potentialname", "title"),
        "stage": ("stagename", "stage", "dealstage", "pipelinestage", "salesstage"),
        "amount": ("amount", "dealvalue", "value", "dealamount"),
        "currency": ("currencyisocode", "currency", "currencycode"),
        "expected_close_date": ("closedate", "expectedclosedate", "closingdate", "expectedclose"),
        "created_at": _CREATED,
        "closed_at": ("closedat", "closeddate", "wontime", "closetime", "dateclosed"),
        "is_won": ("iswon", "won"),
        "lost_reason": ("lossreason", "lostreason", "closedlostreason", "reasonforloss"),
        "competitor": ("competitor", "maincompetitor", "maincompetitors"),
        "product_line": ("productline", "product", "productfamily"),
        "forecast_category": ("forecastcategory", "forecastcategoryname"),
        "updated_at": _UPDATED,
    },
    "opportunity_stage_history": {
        "opportunity_id": ("opportunityid", "dealid", "potentialid"),
        "changed_at": ("changedat", "createddate", "changedate", "timestamp", "date"),
        "from_stage": ("fromstage", "previousstage", "oldvalue", "fromstagename"),
        "to_stage": ("tostage", "stagename", "newvalue", "stage", "tostagename"),
        "amount": ("amount",),
        "expected_close_date": ("closedate", "expectedclosedate"),
    },
    "activities": {
        "activity_id": ("activityid", "taskid", "eventid", "engagementid", "id"),
        "activity_type": ("activitytype", "type", "tasksubtype", "subtype", "engagementtype"),
        "account_id": ("accountid", "companyid", "organizationid", "orgid"),
        "contact_id": ("contactid", "whoid", "personid"),
        "lead_id": ("leadid",),
        "opportunity_id": ("opportunityid", "whatid", "dealid"),
        "user_id": ("userid", *_OWNER),
        "occurred_at": (
            "occurredat",
            "activitydate",
            "startdatetime",
            "activitydatetime",
            "timestamp",
            "date",
            *_CREATED,
        ),
        "duration_minutes": ("durationinminutes", "durationminutes", "duration"),
        "outcome": ("outcome", "calldisposition", "result", "status"),
        "due_at": ("duedate", "dueat", "activityduedate"),
        "completed_at": ("completeddatetime", "completedat", "markedasdonetime", "donetime"),
    },
    "campaigns": {
        "campaign_id": ("campaignid", "id"),
        "name": ("name", "campaignname"),
        "channel": ("channel", "type", "campaigntype", "medium"),
        "started_at": ("startdate", "startedat", "start"),
        "ended_at": ("enddate", "endedat", "end"),
        "cost": ("actualcost", "cost", "budgetedcost", "spend"),
    },
    "campaign_members": {
        "campaign_id": ("campaignid",),
        "member_id": ("memberid", "leadorcontactid", "contactid", "leadid"),
        "member_type": ("membertype", "type"),
        "enrolled_at": ("enrolledat", "createddate", "firstrespondeddate", "addedat"),
        "status": ("status", "memberstatus"),
    },
    "subscriptions": {
        "subscription_id": ("subscriptionid", "contractid", "id"),
        "account_id": _ACCOUNT,
        "plan": ("plan", "planname", "product", "contracttype"),
        "seats": ("seats", "quantity", "licenses"),
        "mrr": ("mrr", "monthlyrecurringrevenue", "monthlyamount", "monthlycharges"),
        "started_at": ("startedat", "startdate", "start", "activatedat"),
        "renewal_date": ("renewaldate", "enddate", "currentperiodend", "nextrenewal"),
        "ended_at": ("endedat", "cancelledat", "canceledat", "cancellationdate", "churndate"),
        "status": ("status", "subscriptionstatus"),
        "cancel_reason": ("cancelreason", "cancellationreason", "churnreason"),
    },
    "invoices": {
        "invoice_id": ("invoiceid", "invoicenumber", "number", "id"),
        "account_id": (*_ACCOUNT, "customerid", "customer"),
        "subscription_id": ("subscriptionid", "contractid"),
        "amount": ("amount", "total", "amountdue", "invoiceamount"),
        "issued_at": ("issuedat", "invoicedate", "issuedate", "date", *_CREATED),
        "due_at": ("dueat", "duedate"),
        "paid_at": ("paidat", "paiddate", "paymentdate"),
        "status": ("status", "invoicestatus"),
    },
    "tickets": {
        "ticket_id": ("ticketid", "caseid", "casenumber", "id"),
        "account_id": _ACCOUNT,
        "contact_id": ("contactid", "requesterid"),
        "priority": ("priority",),
        "created_at": _CREATED,
        "resolved_at": ("resolvedat", "closeddate", "closedat", "solvedat"),
        "csat": ("csat", "satisfaction", "satisfactionscore", "rating"),
    },
    "events": {
        "event_id": ("eventid", "messageid", "id"),
        "occurred_at": ("occurredat", "timestamp", "eventtime", "time", "datetime", "receivedat"),
        "event_type": ("eventtype", "event", "eventname", "type", "action"),
        "contact_id": ("contactid", "userid"),
        "lead_id": ("leadid",),
        "account_id": ("accountid", "companyid", "groupid"),
        "anonymous_id": ("anonymousid", "visitorid", "clientid", "cookieid"),
        "session_id": ("sessionid",),
        "campaign_id": ("campaignid", "utmcampaign"),
        "properties": ("properties", "context", "payload"),
    },
}


def normal(name: str) -> str:
    """A name in the form synonyms are compared in: lower case, letters and digits only.

    Args:
        name: a file stem or a column header.

    Returns:
        ``"Created Date"`` → ``"createddate"``; Salesforce's ``__c`` suffix is kept as ``c``.
    """
    return re.sub(r"[^a-z0-9]", "", name.lower())


def identifier(name: str) -> str:
    """A header as a snake_case identifier a select can name it by (custom attributes).

    Args:
        name: a column header as the export has it.

    Returns:
        ``"Churn Risk__c"`` → ``"churn_risk_c"``; a leading digit gets a ``c_`` prefix.
    """
    words = re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    words = words.strip("_") or "column"
    return f"c_{words}" if words[0].isdigit() else words
