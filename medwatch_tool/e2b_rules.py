"""FDA business rules for what we export (FDA's R0xxx rejection / W0xxx warning ids).

The ICH XSD checks structure only; FDA rejects a message for missing conditional elements,
wrong receiver codes or over-long values. These are the rules that apply to what the
exporter can produce, each with FDA's own id so a rejection can be looked up.
"""
from typing import List

from .validate import Problem

NS = {"hl7": "urn:hl7-org:v3"}
CASE = "hl7:controlActProcess/hl7:subject/hl7:investigationEvent"
PRIMARY = (CASE + "/hl7:outboundRelationship[hl7:priorityNumber/@value='1']/hl7:relatedInvestigation"
           "/hl7:subjectOf2/hl7:controlActEvent/hl7:author/hl7:assignedEntity/hl7:assignedPerson")
MAX_LENGTHS = {  # element: (xpath from the message, limit) from FDA's data element table
    "C.1.1": (CASE + "/hl7:id[@root='2.16.840.1.113883.3.989.2.1.3.1']/@extension", 100),
    "D.1": (CASE + "//hl7:primaryRole/hl7:player1/hl7:name", 60),
    "E.i.1.1a": (CASE + "//hl7:observation[hl7:code/@code='29']/hl7:value/hl7:originalText", 250),
    "G.k.2.2": (CASE + "//hl7:organizer[hl7:code/@code='4']//hl7:kindOfProduct/hl7:name", 250),
    "H.1": (CASE + "/hl7:text", 100000),
}


def _x(node, expr):
    return node.xpath(expr, namespaces=NS)


def check(batch) -> List[Problem]:
    """Problems (rule ids R0xxx) in an exported batch; errors block submission."""
    problems = []

    def add(rule, message, where, severity="error"):
        problems.append(Problem(severity, message, None, "", "", None, where, rule))

    batch_receiver = (_x(batch, "hl7:receiver/hl7:device/hl7:id/@extension") or [""])[0]
    if batch_receiver not in ("ZZFDA", "ZZFDA_PREMKT"):
        add("R0004", f"N.1.4 batch receiver is '{batch_receiver}'; FDA postmarket ICSRs use ZZFDA", "batch")
    for message in _x(batch, "hl7:PORR_IN049016UV"):
        where = (_x(message, "hl7:id/@extension") or ["message"])[0]
        receiver = (_x(message, "hl7:receiver/hl7:device/hl7:id/@extension") or [""])[0]
        if batch_receiver == "ZZFDA" and receiver != "CDER":
            add("R0006", f"N.1.4 is ZZFDA but N.2.r.3 is '{receiver}', not CDER", where)
        if _x(message, PRIMARY + "/hl7:asLocatedEntity/hl7:location/hl7:code/@nullFlavor"):
            add("R0019", "C.2.r.3 reporter's country is required for the primary source (G1 Country)", where)
        if _x(message, PRIMARY + "/hl7:asQualifiedEntity/hl7:code/@nullFlavor"):
            add("R0020", "C.2.r.4 qualification is required for the primary source "
                         "(G2 Health professional? / G3 Occupation)", where)
        sender_type = (_x(message, CASE + "/hl7:subjectOf1//hl7:assignedEntity/hl7:code/@code") or [""])[0]
        if sender_type != "7" and not _x(message, CASE + "/hl7:subjectOf1//hl7:representedOrganization//hl7:name"):
            add("R0022", "C.3.2 sender's organisation is required when the sender is not a patient/consumer "
                         "(give --sender-organisation)", where)
        roles = _x(message, CASE + "//hl7:causalityAssessment[hl7:code/@code='20']/hl7:value/@code")
        if not any(r in ("1", "3", "4") for r in roles):
            add("R0069", "G.k.1: at least one product must be suspect, interacting or not administered "
                         "(the draft needs a D suspect product)", where)
        elif roles[0] != "1":
            add("W0005", "G.k.1: the first product should be the suspect one", where, "warning")
        for dose in _x(message, CASE + "//hl7:doseQuantity[@unit='1']"):
            add("R0075", "G.k.4.r.1b dose unit is required with a dose: D2 dose unit is not given, or is one "
                         "with no UCUM unit to send (unknown, total, cyclical, trimester: say the dose in a unit "
                         "of measure)", where)
        for center in _x(message, CASE + "//hl7:organizer[hl7:code/@code='3']//hl7:center[@unit='1']"):
            add("R0067", "F.r.3.3 unit is required with a numeric test result (B6 result unit)", where)
        combination = _x(message, CASE + "/hl7:component/hl7:observationEvent[hl7:code/@code='C156384']/hl7:value/@value")
        for part in _x(message, CASE + "//hl7:partProduct"):
            malfunction = _x(part, ".//hl7:characteristic[hl7:code/@code='C54026']/hl7:value/@value")
            if malfunction == ["true"] and not _x(part, ".//hl7:characteristic[hl7:code/@code='C54451']"):
                add("R0093", "FDA.G.k.12.r.3.r device problem code is required when the device malfunctioned "
                             "(add device/problem_code to the draft)", where)
            if combination == ["true"] and not _x(part, "hl7:name[not(@nullFlavor)]"):
                add("R0094", "FDA.G.k.12.r.4/5 device brand or common name is required in a combination "
                             "product report", where)
        for element, (expr, limit) in MAX_LENGTHS.items():
            for value in _x(message, expr):
                text = value if isinstance(value, str) else "".join(value.itertext())
                if len(text) > limit:
                    add("E2B-LEN", f"{element} is {len(text)} characters long; FDA accepts at most {limit}", where)
    return problems
