"""Code lists between draft values and ICH E2B(R3) / FDA codes (data, used both ways).

Each map is draft value -> E2B code; `reverse()` gives the import direction. A draft value
missing from a map cannot be sent as a code and is reported as a warning, never dropped
silently. Sources: ICH E2B(R3) IG code lists (OIDs 2.16.840.1.113883.3.989.2.1.1.x), FDA
regional tables (NCIt codes), the E2B(R2)->R3 route and unit mappings.
"""
import re
from typing import Optional

OID = {
    "ich": "2.16.840.1.113883.3.989.2.1.1.",
    "sex": "1.0.5218",
    "country": "1.0.3166.1.2.2",
    "meddra": "2.16.840.1.113883.6.163",
    "ncit": "2.16.840.1.113883.3.26.1.1",
    "route": "2.16.840.1.113883.3.989.2.1.1.14",
    "ucum": "2.16.840.1.113883.6.8",
    "fda_local_report_type": "2.16.840.1.113883.3.989.5.1.2.2.1.1.1",
    "fda_required_intervention": "2.16.840.1.113883.3.989.5.1.2.2.1.3",
    "fda_device_operator": "2.16.840.1.113883.3.989.5.1.2.1.1.6",
}

MAPS = {
    "sex": {"male": "1", "female": "2"},
    "age_unit": {"year": "a", "month": "mo", "week": "wk", "day": "d"},
    "race": {"american_indian_alaska_native": "C41259", "asian": "C41260", "black_african_american": "C16352",
             "native_hawaiian_pacific_islander": "C41219", "white": "C41261"},
    "ethnicity": {"hispanic_latino": "C17459", "not_hispanic_latino": "C41222"},
    "rechallenge": {"yes": "1", "no": "2", "doesnt_apply": "4"},
    "frequency": {"daily": "1 d", "BID": "12 h", "TID": "8 h", "QID": "6 h"},
    # G.k.4.r.6b duration of drug administration (UCUM: min, h, d, wk, mo, a)
    "duration_unit": {"minute": "min", "hour": "h", "day": "d", "week": "wk", "month": "mo", "year": "a"},
    # FDA.G.k.12.r.10 operator of the device (list 2.16.840.1.113883.3.989.5.1.2.1.1.6)
    "operator": {"health_professional": "1", "patient": "2", "other": "3"},
    "qualification": {"physician": "1", "pharmacist": "2", "other_health_professional": "3",
                      "non_health_professional": "5"},
    "dose_unit": {"MG": "mg", "UGM": "ug", "GM": "g", "KG": "kg", "NGM": "ng", "PGM": "pg", "MG/KG": "mg/kg",
                  "UGM/KG": "ug/kg", "MG/SQ M": "mg/m2", "UGM/SQ M": "ug/m2", "L": "L", "ML": "mL", "UL": "uL",
                  "BQ": "Bq", "GBQ": "GBq", "MBQ": "MBq", "KBQ": "kBq", "CI": "Ci", "MCI": "mCi", "UCI": "uCi",
                  "NCI": "nCi", "MOLE": "mol", "MMOLE": "mmol", "UMOLE": "umol", "IU": "[iU]", "KIU": "k[iU]",
                  "MIU": "M[iU]", "IU/KG": "[iU]/kg", "MEQ": "meq", "%": "%", "GTT": "[drp]", "DF": "{DF}",
                  "MG/ML": "mg/mL", "UGM/HR": "ug/h", "MG/MG": "mg/mg", "UGM/UGM": "ug/ug"},
    # E2B route of administration list (the R2 numbering kept by ICH), by the draft's route values
    "route": {"auricular_otic": "001", "buccal": "002", "cutaneous": "003", "dental": "004", "endocervical": "005",
              "endosinusial": "006", "endotracheal": "007", "epidural": "008", "extra_amniotic": "009",
              "hemodialysis": "010", "intra_corpus_cavernosum": "011", "intra_amniotic": "012",
              "intra_arterial": "013", "intra_articular": "014", "intra_uterine": "015", "intracardiac": "016",
              "intracavernous": "017", "intracerebral": "018", "intracervical": "019", "intracisternal": "020",
              "intracorneal": "021", "intracoronary": "022", "intradermal": "023", "intradiscal_intraspinal": "024",
              "intrahepatic": "025", "intralesional": "026", "intralymphatic": "027",
              "intramedullar_bone_marrow": "028", "intrameningeal": "029", "intramuscular": "030",
              "intraocular": "031", "intrapericardial": "032", "intraperitoneal": "033", "intrapleural": "034",
              "intrasynovial": "035", "intratumor": "036", "intrathecal": "037", "intrathoracic": "038",
              "intratracheal": "039", "intravenous_bolus": "040", "intravenous_drip": "041",
              "intravenous_not_otherwise_specified": "042", "intravesical": "043", "iontophoresis": "044",
              "nasal": "045", "occlusive_dressing_technique": "046", "ophthalmic": "047", "oral": "048",
              "oropharingeal": "049", "other": "050", "parenteral": "051", "periarticular": "052",
              "perineural": "053", "rectal": "054", "respiratory_inhalation": "055", "retrobulbar": "056",
              "sunconjunctival": "057", "subcutaneous": "058", "subdermal": "059", "sublingual": "060",
              "topical": "061", "transdermal": "062", "transmammary": "063", "transplacental": "064",
              "unknown": "065", "urethral": "066", "vaginal": "067"},
}

# G3 occupations (schemas/report.xsd) that are not health professionals: C.2.r.4 5 (consumer or
# other non health professional) unless G2 says the reporter is a health professional.
NON_CLINICAL_OCCUPATIONS = ("administrator_supervisor", "biomedical_engineer", "risk_manager", "third_party_servicer")

# Routes by which a device (pump, catheter, port, infusion set, injector) delivers the drug: a
# combination case's devices go with the one suspect product given by one of them. The draft
# has no link between a device and a product; oral, topical, rectal... products are not these.
DEVICE_ROUTES = ("epidural", "intra_arterial", "intracerebral", "intracisternal", "intradiscal_intraspinal",
                 "intrameningeal", "intraperitoneal", "intrathecal", "intravenous_bolus", "intravenous_drip",
                 "intravenous_not_otherwise_specified", "parenteral", "subcutaneous")
# ... and, taken only where no suspect is given by one of those (an implanted pump's baclofen
# keeps its pump beside an inhaler), an injector's, an inhaler's or a patch's
DEVICE_ROUTES_TOO = ("intra_articular", "intradermal", "intralesional", "intramuscular", "intraocular",
                     "respiratory_inhalation", "transdermal")

# B2 outcome -> E2B seriousness observation code (E.i.3.2a-f, FDA.E.i.3.2h)
SERIOUSNESS = {"death": "34", "life_threatening": "21", "hospitalization": "33", "disability": "35",
               "congenital_anomaly": "12", "other_serious": "26", "required_intervention": "7"}


# F.r.3.3 test result unit: UCUM (2.16.840.1.113883.6.8), case-sensitive: 'C' is the coulomb, not
# degrees Celsius. The UCUM codes of common clinical results, sent as given ('mg/dl' too: UCUM
# writes the litre L or l) ...
UCUM_UNITS = frozenset("""
    Cel [degF] % /min /h /s /uL /L /mm3 /[HPF] /[LPF] 10*3/uL 10*6/uL 10*9/L 10*12/L 10*3/mm3 10*6/mm3
    mm[Hg] cm[H2O] kPa mg/dL g/dL g/L mg/L ug/L ug/mL ug/dL ng/mL ng/dL ng/L pg/mL mg/mL g/mL mmol/L umol/L
    nmol/L pmol/L mol/L mmol/mol mmol/kg meq/L mosm/kg mosm/L U/L U/mL mU/L mU/mL kU/L [IU]/L [IU]/mL m[IU]/L
    m[IU]/mL u[IU]/mL k[IU]/L mL/min mL/min/{1.73_m2} L/min mm/h s min h d wk mo a ms fL pg g mg ug ng kg
    L mL dL uL cm mm m um kg/m2 m2 mL/kg Bq [pH] {ratio} {INR} 1
""".split())
UCUM_UNITS = UCUM_UNITS | {re.sub(r"L(?![^\[]*\])", "l", u) for u in UCUM_UNITS if "L" in u}  # (mg/dl, ml)
# ... and how lab reports and clinicians write them (spaces left out, µ as u, ^ as *)
UNIT_SPELLINGS = {
    "C": "Cel", "°C": "Cel", "ºC": "Cel", "degC": "Cel", "celsius": "Cel", "centigrade": "Cel",
    "F": "[degF]", "°F": "[degF]", "ºF": "[degF]", "degF": "[degF]", "fahrenheit": "[degF]",
    "x10*9/L": "10*9/L", "10E9/L": "10*9/L", "x10E9/L": "10*9/L",
    "x10*12/L": "10*12/L", "10E12/L": "10*12/L", "x10E12/L": "10*12/L",
    "x10*3/uL": "10*3/uL", "10E3/uL": "10*3/uL", "x10E3/uL": "10*3/uL", "K/uL": "10*3/uL",
    "x10*6/uL": "10*6/uL", "10E6/uL": "10*6/uL", "x10E6/uL": "10*6/uL", "M/uL": "10*6/uL",
    "mmHg": "mm[Hg]", "cmH2O": "cm[H2O]",
    "bpm": "/min", "beats/min": "/min", "breaths/min": "/min", "br/min": "/min", "permin": "/min",
    "min-1": "/min", "/hr": "/h", "cells/uL": "/uL", "cells/mm3": "/mm3", "/hpf": "/[HPF]", "/lpf": "/[LPF]",
    "IU/L": "[IU]/L", "IU/mL": "[IU]/mL", "mIU/L": "m[IU]/L", "mIU/mL": "m[IU]/mL", "uIU/mL": "u[IU]/mL",
    "kIU/L": "k[IU]/L", "mEq/L": "meq/L", "mOsm/kg": "mosm/kg", "mOsm/L": "mosm/L",
    "mcg/mL": "ug/mL", "mcg/L": "ug/L", "mcg/dL": "ug/dL", "mcg": "ug",
    "sec": "s", "secs": "s", "seconds": "s", "mins": "min", "minutes": "min", "hr": "h", "hrs": "h", "hours": "h",
    "mm/hr": "mm/h", "percent": "%", "INR": "{INR}", "ratio": "{ratio}",
}
# 'MG/DL', 'MMOL/L' as old lab systems print them ('G/L' excepted: giga per litre in a European
# cell count, or grams per litre in capitals; it is sent as text, as any unit not known here)
_UNIT_ANY_CASE: dict = {}
for _spelling, _code in [(u, u) for u in sorted(UCUM_UNITS)] + list(UNIT_SPELLINGS.items()):
    _UNIT_ANY_CASE.setdefault(_spelling.casefold(), (_spelling, _code))
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def ucum_unit(text: str) -> Optional[str]:
    """The UCUM code of a test result's unit as people write it ('C', '°C', '10^9/L', 'mmHg',
    'bpm', 'IU/L'), or None when it is not one this tool knows to be UCUM (F.r.3.3 is a UCUM
    code: 'C' was sent as is, which UCUM reads as coulombs)."""
    unit = text.strip()
    if unit in UCUM_UNITS:
        return unit
    unit = re.sub(r"\s+", "", unit).replace("µ", "u").replace("μ", "u").replace("×", "x").replace("^", "*")
    unit = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "10*" + m.group(1).translate(_SUPERSCRIPTS), unit)
    if unit in UCUM_UNITS:
        return unit
    if unit in UNIT_SPELLINGS:
        return UNIT_SPELLINGS[unit]
    # in any letter case only a unit of some per other in capitals, as old lab systems print
    # them (MG/DL), or one whose first part is written as UCUM writes it (mg/DL): UCUM's case
    # is meaning ('uM' micromolar is no 'um' micrometre, 'MU' no mU, 'Mg' megagrams)
    spelling, code = _UNIT_ANY_CASE.get(unit.casefold(), (None, None)) if "/" in unit else (None, None)
    if code is None:
        return None
    if unit.isupper() and unit.casefold() != "g/l" and not unit.startswith("MU"):
        return code
    return code if spelling.split("/", 1)[0] == unit.split("/", 1)[0] else None  # ('mg/DL'; 'u/L' is no U/L)


def reverse(name: str) -> dict:
    return {code: value for value, code in MAPS[name].items()}
