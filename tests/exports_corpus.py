"""
A generator of realistic exports: invented people, the column names each product documents.

Every file imitates one kind an admin uploads (identity-provider downloads, PowerShell
exports, HR and payroll reports, form answers, localised templates). :func:`write_corpus`
writes them into a folder and returns their expectations in the form of
``tests/data/corpus/expected.json``; ``group_separator`` here is what the mapping must find
by itself, and ``footer_rows`` the spreadsheet rows it must leave out. Column names come from:

- Google Workspace: the admin console's user CSV (``First Name [Required]``, ...).
- Microsoft 365 admin center "Export users" and Microsoft Entra "Download users" (the
  attribute list of learn.microsoft.com, ``users-bulk-download``).
- Active Directory: ``Get-ADUser ... | Select-Object ... | Export-Csv`` (Windows PowerShell
  5.1 writes a ``#TYPE`` line first).
- Slack's "Export member list", SAP SuccessFactors' user data file (keys row, labels row),
  Keycloak's user representation flattened to CSV, Google Forms' answer sheet.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl

Case = dict[str, Any]

FIRST = {
    "no": ["Kari", "Ola", "Ingrid", "Sindre", "Marte", "Eirik", "Solveig", "Håkon", "Åse"],
    "en": ["Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Zoe"],
    "fi": ["Aino", "Eetu", "Venla", "Onni", "Iida", "Väinö", "Sanni", "Jyrki", "Helmi"],
    "is": ["Guðrún", "Þórður", "Sigríður", "Ólafur", "Ásta", "Jón", "Eyrún", "Hrafn", "Dögg"],
    "nl": ["Sanne", "Daan", "Femke", "Joris", "Lotte", "Bram", "Anouk", "Thijs", "Noor"],
    "fr": ["Camille", "Léa", "Hugo", "Chloé", "Théo", "Inès", "Louis", "Zoé", "Jules"],
    "es": ["Lucía", "Mateo", "Sofía", "Hugo", "Martina", "Álvaro", "Paula", "Iñigo", "Nerea"],
    "it": ["Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo", "Sara", "Davide", "Elisa"],
    "pl": ["Zofia", "Jakub", "Małgorzata", "Piotr", "Agnieszka", "Łukasz", "Ewa", "Michał", "Ola"],
    "pt": ["Beatriz", "João", "Inês", "Tiago", "Mariana", "Rui", "Leonor", "Gonçalo", "Marta"],
}
LAST = {
    "no": ["Haugen", "Lunde", "Bakke", "Sørensen", "Myhre", "Strand", "Dahl", "Aasen", "Berg"],
    "en": ["Walker", "Patel", "Nguyen", "O'Brien", "Kowalski", "Smith", "Hughes", "Reid", "Ford"],
    "fi": ["Korhonen", "Mäkinen", "Nieminen", "Virtanen", "Heikkinen", "Laine", "Koskinen"],
    "is": ["Jónsdóttir", "Sigurðsson", "Guðmundsdóttir", "Ólafsson", "Einarsdóttir", "Björnsson"],
    "nl": ["Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Dekker"],
    "fr": ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Fontaine", "Roux"],
    "es": ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Díaz", "Muñoz", "Ruiz"],
    "it": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
    "pl": ["Nowak", "Kowalczyk", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska"],
    "pt": ["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Sousa"],
}
DEPARTMENTS = {
    "no": ["Salg", "Økonomi", "Drift", "Kundeservice"],
    "en": ["Sales", "Finance", "Operations", "Support"],
    "fi": ["Myynti", "Talous", "Tuotanto", "Asiakaspalvelu"],
    "is": ["Sala", "Fjármál", "Rekstur", "Þjónusta"],
    "nl": ["Verkoop", "Financiën", "Operaties", "Klantenservice"],
    "fr": ["Ventes", "Finance", "Production", "Service client"],
    "es": ["Ventas", "Finanzas", "Operaciones", "Atención al cliente"],
    "it": ["Vendite", "Amministrazione", "Produzione", "Assistenza"],
    "pl": ["Sprzedaż", "Finanse", "Produkcja", "Obsługa klienta"],
    "pt": ["Vendas", "Finanças", "Operações", "Apoio ao cliente"],
}
GROUPS = {
    "no": ["Oslo", "Bergen", "Verneombud", "Ledergruppe"],
    "en": ["London", "Leeds", "First aid", "Managers"],
    "fi": ["Helsinki", "Tampere", "Työsuojelu", "Johtoryhmä"],
    "is": ["Reykjavík", "Akureyri", "Öryggisnefnd", "Stjórnendur"],
    "nl": ["Amsterdam", "Utrecht", "BHV", "Management"],
    "fr": ["Paris", "Lyon", "CSE", "Encadrement"],
    "es": ["Madrid", "Sevilla", "Prevención", "Dirección"],
    "it": ["Milano", "Torino", "Sicurezza", "Direzione"],
    "pl": ["Warszawa", "Kraków", "BHP", "Kierownictwo"],
    "pt": ["Lisboa", "Porto", "Segurança", "Direção"],
}
_ASCII = str.maketrans(
    "åæøäöüéèêëáàíóúñçãõłśźżćńąęðþßôîïœ",
    "aaoaoueeeeaaiounca" + "olszzcnae" + "dts" + "oiio",
)


def _local(first: str, last: str) -> str:
    """An address's local part, as IT departments make them."""
    text = f"{first}.{last}".casefold().replace("'", "").replace(" ", "")
    return text.translate(_ASCII)


def people(n: int, lang: str, domain: str) -> list[dict[str, str]]:
    """``n`` invented people of a language, with distinct addresses at ``domain``."""
    firsts, lasts = FIRST[lang], LAST[lang]
    out = []
    for i in range(n):
        first, last = firsts[i % len(firsts)], lasts[(i * 5 + i // len(firsts)) % len(lasts)]
        departments, groups = DEPARTMENTS[lang], GROUPS[lang]
        out.append(
            {
                "first": first,
                "last": last,
                "email": f"{_local(first, last)}{i if i >= len(firsts) else ''}@{domain}",
                "department": departments[i % len(departments)],
                "group1": groups[i % len(groups)],
                "group2": groups[(i + 1) % len(groups)],
                "phone": f"+47 9{i:02d} 11 {i:03d}"[:15],
                "id": str(1000 + i),
            }
        )
    return out


def _csv(rows: list[list[str]], *, delimiter: str = ",", quote_all: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        lineterminator="\r\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerows(rows)
    return buffer.getvalue()


def _xlsx(path: Path, rows: list[list[Any]], merges: tuple[str, ...] = ()) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Ansatte"
    for row in rows:
        sheet.append(row)
    for merge in merges:
        sheet.merge_cells(merge)
    workbook.save(path)


# -- the identity providers ------------------------------------------------------------------


def google_workspace(folder: Path) -> Case:
    """Google Workspace's user download: six address columns, a manager's and a recovery one."""
    header = [
        "First Name [Required]", "Last Name [Required]", "Email Address [Required]",
        "Password [Required]", "Password Hash Function [UPLOAD ONLY]", "Org Unit Path [Required]",
        "New Primary Email [UPLOAD ONLY]", "Recovery Email", "Home Secondary Email",
        "Work Secondary Email", "Recovery Phone [MUST BE IN THE E.164 FORMAT]", "Work Phone",
        "Employee ID", "Employee Title", "Manager Email", "Department", "Cost Center",
        "Last Sign In [READ ONLY]", "Email Usage [READ ONLY]",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(24, "en", "brightwave.co.uk")):
        rows.append(
            [
                p["first"], p["last"], p["email"], "****", "", "/Staff", "",
                f"{_local(p['first'], p['last'])}{i}@gmail.com" if i % 3 else "",
                f"{p['first'].lower()}{i}@outlook.com" if i % 4 == 0 else "",
                f"{p['first'].lower()}{i}@brightwave.io" if i % 5 == 0 else "",
                "+447700900" + f"{i:03d}", "", p["id"], "Analyst",
                "ruth.fields@brightwave.co.uk" if i % 2 else "omar.haddad@brightwave.co.uk",
                p["department"], "CC-4", "2026/03/01 09:12:44", "1.2 GB",
            ]
        )  # fmt: skip
    (folder / "google_workspace_users.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "google_workspace_users.csv",
        "header": header,
        "mapping": {
            "first_name": header[0],
            "last_name": header[1],
            "email": header[2],
            "department": "Department",
        },
        "groups": [],
        "valid_rows": 24,
        "invalid_rows": 0,
    }


def m365_active_users(folder: Path) -> Case:
    """Microsoft 365 admin center "Export users": alphabetical columns, proxy addresses,
    shared mailboxes with no names (problem rows)."""
    header = [
        "Block credential", "City", "Country/Region", "Department", "DirSyncEnabled",
        "Display name", "Fax", "First name", "Last dirsync time", "Last name",
        "Last password change time stamp", "License assignment details", "Licenses",
        "Mobile Phone", "Oath token metadata", "Object Id", "Office", "Password never expires",
        "Phone number", "Postal code", "Preferred data location", "Preferred language",
        "Proxy addresses", "Release track", "Soft deletion time stamp", "State",
        "Street address", "Strong password required", "Title", "Usage location",
        "User principal name", "When created",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(20, "en", "contoso.com")):
        shared = i in (6, 13)
        local = _local(p["first"], p["last"])
        upn = f"reception{i}@contoso.com" if shared else p["email"]
        rows.append(
            [
                "False", "Leeds", "United Kingdom", "" if shared else p["department"], "",
                "Reception" if shared else f"{p['first']} {p['last']}", "",
                "" if shared else p["first"], "", "" if shared else p["last"],
                "3/1/2026 9:12:00 AM", "", "" if shared else "contoso:O365_BUSINESS_PREMIUM",
                "", "", f"6f1c{i:04d}-2b1e-4a8e-9d7c-1f2e3d4c5b6a", "", "False", "", "LS1 4AP",
                "", "en-GB", f"SMTP:{upn}+smtp:{local}@contoso.onmicrosoft.com", "", "",
                "", "", "True", "" if shared else "Analyst", "GB", upn, "1/12/2025 8:00:00 AM",
            ]
        )  # fmt: skip
    (folder / "m365_active_users.csv").write_text(_csv(rows), encoding="utf-8-sig")
    return {
        "file": "m365_active_users.csv",
        "header": header,
        "mapping": {
            "first_name": "First name",
            "last_name": "Last name",
            "email": "User principal name",
            "department": "Department",
        },
        "groups": [],
        "valid_rows": 18,
        "invalid_rows": 2,
        "problem_rows": [8, 15],
    }


def entra_download(folder: Path) -> Case:
    """Entra "Download users": ``userPrincipalName`` (guests ``#EXT#``, an onmicrosoft.com
    admin) beside ``mail``, which new hires lack (problem rows, not a reason for the UPN)."""
    header = [
        "userPrincipalName", "displayName", "surname", "mail", "givenName", "objectId",
        "userType", "jobTitle", "department", "accountEnabled", "usageLocation",
        "streetAddress", "state", "country", "physicalDeliveryOfficeName", "city",
        "postalCode", "telephoneNumber", "mobile", "authenticationAlternativePhoneNumber",
        "authenticationEmail", "alternateEmailAddress", "ageGroup", "consentProvidedForMinor",
        "legalAgeGroupClassification",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(26, "no", "fjordkraft-demo.no")):
        local = _local(p["first"], p["last"])
        if i % 6 == 5:
            upn, mail = (
                f"{local}_partner.no#EXT#@fjordkraftdemo.onmicrosoft.com",
                f"{local}@partner.no",
            )
            kind = "Guest"
        else:
            upn, mail, kind = p["email"], p["email"], "Member"
        if i in (3, 10, 17):
            mail = ""  # a new hire with no mailbox yet
        rows.append(
            [
                upn, f"{p['first']} {p['last']}", p["last"], mail, p["first"],
                f"0b9d{i:04d}-7e61-4c1a-a2b4-5d6e7f8091a2", kind, "Rådgiver", p["department"],
                "True", "NO", "Storgata 1", "", "Norway", "Oslo", "Oslo", "0155", "", "",
                "", f"{local}@gmail.com" if i % 4 == 0 else "", "", "", "", "",
            ]
        )  # fmt: skip
    (folder / "entra_users.csv").write_text(_csv(rows), encoding="utf-8-sig")
    return {
        "file": "entra_users.csv",
        "header": header,
        "mapping": {
            "first_name": "givenName",
            "last_name": "surname",
            "email": "mail",
            "department": "department",
        },
        "groups": [],
        "valid_rows": 23,
        "invalid_rows": 3,
        "problem_rows": [5, 12, 19],
    }


def ad_export(folder: Path) -> Case:
    """``Get-ADUser | Select-Object ... | Export-Csv`` in Windows PowerShell 5.1: a ``#TYPE``
    line, every value quoted, ``UserPrincipalName`` at ``contoso.local``, ``EmailAddress``."""
    header = [
        "Name", "GivenName", "Surname", "SamAccountName", "UserPrincipalName", "EmailAddress",
        "Department", "Title", "Enabled", "DistinguishedName",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(22, "en", "contoso.co.uk")):
        sam = (p["first"][0] + p["last"]).lower().replace("'", "")[:20]
        rows.append(
            [
                f"{p['first']} {p['last']}", p["first"], p["last"], sam,
                f"{sam}@contoso.local", "" if i == 9 else p["email"], p["department"],
                "Consultant", "True", f"CN={p['first']} {p['last']},OU=Staff,DC=contoso,DC=local",
            ]
        )  # fmt: skip
    text = "#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n"
    text += _csv(rows, quote_all=True)
    (folder / "ad_users.csv").write_text(text, encoding="utf-8")
    return {
        "file": "ad_users.csv",
        "header": header,
        "mapping": {
            "first_name": "GivenName",
            "last_name": "Surname",
            "email": "EmailAddress",
            "department": "Department",
        },
        "groups": [],
        "valid_rows": 21,
        "invalid_rows": 1,
        "problem_rows": [12],
    }


def slack_members(folder: Path) -> Case:
    """Slack's "Export member list": full names only, so no first or last name is guessed."""
    header = [
        "username", "email", "status", "billing-active", "has-2fa", "has-sso", "userid",
        "fullname", "displayname", "expiration-timestamp",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(18, "en", "northwind.io")):
        rows.append(
            [
                _local(p["first"], p["last"]).replace(".", ""), p["email"],
                "Admin" if i == 0 else "Member", "1", "1", "0", f"U0{i:07d}AB",
                f"{p['first']} {p['last']}", p["first"].lower(), "",
            ]
        )  # fmt: skip
    (folder / "slack_members.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "slack_members.csv",
        "header": header,
        "mapping": {"email": "email"},
        "groups": [],
        "valid_rows": None,
        "invalid_rows": None,
    }


def successfactors_udf(folder: Path) -> Case:
    """SAP SuccessFactors' user data file: a row of system keys, then a row of labels."""
    keys = [
        "STATUS", "USERID", "USERNAME", "FIRSTNAME", "LASTNAME", "MI", "GENDER", "EMAIL",
        "MANAGER", "HR", "DEPARTMENT", "JOBCODE", "DIVISION", "LOCATION", "TIMEZONE",
        "HIREDATE", "EMPID", "TITLE", "BIZ_PHONE",
    ]  # fmt: skip
    labels = [
        "STATUS", "USERID", "Username", "First Name", "Last Name", "Middle Name", "Gender",
        "Email", "Manager", "Human Resource", "Department", "Job Code", "Division",
        "Location", "Time Zone", "Hire Date", "Employee Id", "Title", "Business Phone",
    ]  # fmt: skip
    rows = [keys, labels]
    for i, p in enumerate(people(20, "en", "alpenglanz.example")):
        rows.append(
            [
                "active", f"U{1000 + i}", _local(p["first"], p["last"]), p["first"], p["last"],
                "", "F" if i % 2 else "M", p["email"], "NO_MANAGER" if i == 0 else "U1000",
                "U1001", p["department"], "JC-20", "Corporate", "Leeds", "Europe/London",
                "01/15/2024", p["id"], "Analyst", "+44 113 496 0000",
            ]
        )  # fmt: skip
    (folder / "successfactors_udf.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "successfactors_udf.csv",
        "header": labels,
        "mapping": {
            "first_name": "First Name",
            "last_name": "Last Name",
            "email": "Email",
            "department": "Department",
        },
        "groups": [],
        "valid_rows": 20,
        "invalid_rows": 0,
    }


def keycloak_users(folder: Path) -> Case:
    """Keycloak's user representation flattened to CSV (``jq``): groups as paths joined
    with ``;``."""
    header = [
        "id", "createdTimestamp", "username", "enabled", "totp", "emailVerified", "firstName",
        "lastName", "email", "department", "groups",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(16, "nl", "polderlabs.nl")):
        groups = f"/{p['group1']};/{p['group2']}" if i % 3 else f"/{p['group1']}"
        rows.append(
            [
                f"5a1f{i:04d}-3c2d-4e5f-8a9b-0c1d2e3f4a5b", str(1767225600000 + i * 86400000),
                _local(p["first"], p["last"]), "true", "false", "true", p["first"], p["last"],
                p["email"], p["department"], groups,
            ]
        )  # fmt: skip
    (folder / "keycloak_users.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "keycloak_users.csv",
        "header": header,
        "mapping": {
            "first_name": "firstName",
            "last_name": "lastName",
            "email": "email",
            "department": "department",
        },
        "groups": ["groups"],
        "group_separator": ";",
        "valid_rows": 16,
        "invalid_rows": 0,
    }


def utf16_private_first(folder: Path) -> Case:
    """Excel's "Unicode text": UTF-16, tabs, the private address column first."""
    header = ["Privat e-post", "Fornavn", "Etternavn", "E-post", "Avdeling", "Brukergrupper"]
    rows = [header]
    for i, p in enumerate(people(15, "no", "nordlys.no")):
        local = _local(p["first"], p["last"])
        rows.append(
            [
                f"{local}{i}@gmail.com",
                p["first"],
                p["last"],
                p["email"],
                p["department"],
                p["group1"],
            ]
        )
    data = codecs.BOM_UTF16_LE + _csv(rows, delimiter="\t").encode("utf-16-le")
    (folder / "private_first_utf16.txt").write_bytes(data)
    return {
        "file": "private_first_utf16.txt",
        "header": header,
        "mapping": {
            "first_name": "Fornavn",
            "last_name": "Etternavn",
            "email": "E-post",
            "department": "Avdeling",
        },
        "groups": ["Brukergrupper"],
        "valid_rows": 15,
        "invalid_rows": 0,
    }


def headerless_admin(folder: Path) -> Case:
    """No header row; the first row is the admin account (``admin`` in a cell)."""
    rows = [["admin", "Admin", "Konto", "admin@fjellet.no", "IT", "admin"]]
    for p in people(12, "no", "fjellet.no"):
        rows.append(["", p["first"], p["last"], p["email"], p["department"], p["group1"]])
    (folder / "headerless_admin.csv").write_text(_csv(rows, delimiter=";"), encoding="utf-8")
    return {
        "file": "headerless_admin.csv",
        "header": None,
        "mapping": {"email": 3},
        "groups": [],
        "valid_rows": None,
        "invalid_rows": None,
    }


# -- whole names, languages, forms -------------------------------------------------------------


def one_name_column(folder: Path) -> Case:
    """An HR list with one ``Surname, Given names`` column; two names lack the comma."""
    header = ["Ansattnr", "Navn", "E-post", "Avdeling", "Stilling"]
    names = [
        "van der Berg, Anne-Lise", "Ní Bhriain, Aoife", "山田, 花子", "Haugen, Kari Marie",
        "Lunde, Ola", "Bakke-Olsen, Ingrid", "Sørensen, Sindre", "Myhre, Marte", "Strand, Eirik",
        "Dahl, Solveig", "Aasen, Håkon", "Berg, Åse", "O'Connor, Siobhán", "Ola Nordmann",
        "de la Cruz, María José", "Müller, Jürgen", "Kari Normann", "Løvli, Kjærsti",
    ]  # fmt: skip
    rows = [header]
    for i, name in enumerate(names):
        rows.append(
            [str(200 + i), name, f"ansatt{i}@nordlys.no", DEPARTMENTS["no"][i % 4], "Rådgiver"]
        )
    (folder / "one_name_column.csv").write_text(_csv(rows, delimiter=";"), encoding="utf-8")
    return {
        "file": "one_name_column.csv",
        "header": header,
        "mapping": {
            "first_name": "Navn",
            "last_name": "Navn",
            "email": "E-post",
            "department": "Avdeling",
        },
        "groups": [],
        "valid_rows": 16,
        "invalid_rows": 2,
        "problem_rows": [15, 18],
    }


def given_surname(folder: Path) -> Case:
    """Whole names ``Given Surname`` with no comma: nothing is guessed."""
    header = ["Full name", "Work email", "Team", "Department"]
    rows = [header]
    for p in people(12, "en", "brightwave.co.uk"):
        rows.append([f"{p['first']} {p['last']}", p["email"], p["group1"], p["department"]])
    (folder / "given_surname.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "given_surname.csv",
        "header": header,
        "mapping": {"email": "Work email", "department": "Department"},
        "groups": ["Team"],
        "valid_rows": None,
        "invalid_rows": None,
    }


#: Localised HR exports: (language, headers for first, last, email, department, groups).
LANGUAGE_HEADERS = {
    "fi": ["Etunimi", "Sukunimi", "Sähköposti", "Osasto", "Käyttäjäryhmät"],
    "is": ["Fornafn", "Eftirnafn", "Netfang", "Deild", "Notendahópar"],
    "nl": ["Voornaam", "Achternaam", "E-mailadres", "Afdeling", "Groepen"],
    "fr": ["Prénom", "Nom", "Adresse e-mail", "Service", "Groupes"],
    "es": ["Nombre", "Apellidos", "Correo electrónico", "Departamento", "Grupos"],
    "it": ["Nome", "Cognome", "Indirizzo email", "Reparto", "Gruppi"],
    "pl": ["Imię", "Nazwisko", "Adres e-mail", "Dział", "Grupy"],
    "pt": ["Nome", "Apelido", "Endereço de e-mail", "Departamento", "Grupos"],
}
# What else such an export holds, per language (an id, a phone, a title, a start date).
_LANGUAGE_EXTRA = {
    "fi": ["Henkilönumero", "Puhelin", "Tehtävänimike", "Aloituspäivä"],
    "is": ["Kennitala", "Farsími", "Starfsheiti", "Upphafsdagur"],
    "nl": ["Personeelsnummer", "Telefoonnummer", "Functie", "Startdatum"],
    "fr": ["Matricule", "Téléphone", "Fonction", "Date d'entrée"],
    "es": ["Número de empleado", "Teléfono", "Puesto", "Fecha de alta"],
    "it": ["Matricola", "Telefono", "Mansione", "Data di assunzione"],
    "pl": ["Numer pracownika", "Telefon", "Stanowisko", "Data zatrudnienia"],
    "pt": ["Número de funcionário", "Telefone", "Função", "Data de admissão"],
}


def language_export(lang: str) -> Callable[[Path], Case]:
    """A localised HR export in ``lang``; the Dutch one has a ``Tussenvoegsel`` column."""

    def build(folder: Path) -> Case:
        first, last, email, department, groups = LANGUAGE_HEADERS[lang]
        person_id, phone, title, start = _LANGUAGE_EXTRA[lang]
        header = [person_id, first]
        if lang == "nl":
            header.append("Tussenvoegsel")
        header += [last, email, phone, department, title, groups, start]
        rows = [header]
        for i, p in enumerate(people(14, lang, f"firma-{lang}.eu")):
            row = [p["id"], p["first"]]
            if lang == "nl":
                row.append("van der" if i % 3 == 0 else ("de" if i % 3 == 1 else ""))
            row += [
                p["last"], p["email"], f"+3{i % 10} 6{i:02d} 555 {i:03d}", p["department"],
                "Specialist", f"{p['group1']}; {p['group2']}", f"2024-0{1 + i % 9}-15",
            ]  # fmt: skip
            rows.append(row)
        name = f"hr_export_{lang}.csv"
        delimiter = "," if lang in ("nl", "is") else ";"
        (folder / name).write_text(_csv(rows, delimiter=delimiter), encoding="utf-8-sig")
        return {
            "file": name,
            "header": header,
            "mapping": {
                "first_name": first,
                "last_name": last,
                "email": email,
                "department": department,
            },
            "groups": [groups],
            "group_separator": ";",
            "valid_rows": 14,
            "invalid_rows": 0,
        }

    build.__name__ = f"hr_export_{lang}"
    return build


def google_forms_no(folder: Path) -> Case:
    """Google Forms answers in Norwegian: questions as headers, checkbox answers ``a, b``."""
    header = [
        "Tidsmerke", "E-postadresse", "Fornavn", "Etternavn", "Hvilken avdeling jobber du i?",
        "Hvilke grupper vil du være med i?", "Har du noen kommentarer til oss?",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(17, "no", "gmail.com")):
        groups = f"{p['group1']}, {p['group2']}" if i % 2 else p["group1"]
        rows.append(
            [
                f"{1 + i % 28:02d}.03.2026 {8 + i % 9:02d}:{i * 7 % 60:02d}:{i * 13 % 60:02d}",
                p["email"], p["first"], p["last"], p["department"], groups,
                "Gleder meg!" if i % 5 == 0 else "",
            ]
        )  # fmt: skip
    (folder / "skjema_svar.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "skjema_svar.csv",
        "header": header,
        "mapping": {
            "first_name": "Fornavn",
            "last_name": "Etternavn",
            "email": "E-postadresse",
            "department": "Hvilken avdeling jobber du i?",
        },
        "groups": ["Hvilke grupper vil du være med i?"],
        "group_separator": ",",
        "valid_rows": 17,
        "invalid_rows": 0,
    }


def two_row_header(folder: Path) -> Case:
    """An admin's workbook: ``Navn`` over first and last name, ``Kontakt`` over e-mail and
    mobile, ``Avdeling`` and ``Grupper`` merged down over both header rows."""
    rows: list[list[Any]] = [["Ansattoversikt Nordlys AS – mars 2026"], []]
    rows.append(["Navn", None, "Kontakt", None, "Avdeling", "Grupper"])
    rows.append(["Fornavn", "Etternavn", "E-post", "Mobil", None, None])
    for i, p in enumerate(people(21, "no", "nordlys.no")):
        rows.append(
            [
                p["first"],
                p["last"],
                p["email"],
                f"+47 9{i:02d} 12 345",
                p["department"],
                p["group1"],
            ]
        )
    merges = ("A1:F1", "A3:B3", "C3:D3", "E3:E4", "F3:F4")
    _xlsx(folder / "to_rader_overskrift.xlsx", rows, merges)
    return {
        "file": "to_rader_overskrift.xlsx",
        "header": ["Fornavn", "Etternavn", "E-post", "Mobil", "Avdeling", "Grupper"],
        "mapping": {
            "first_name": "Fornavn",
            "last_name": "Etternavn",
            "email": "E-post",
            "department": "Avdeling",
        },
        "groups": ["Grupper"],
        "valid_rows": 21,
        "invalid_rows": 0,
    }


def payroll_footer(folder: Path) -> Case:
    """A payroll report: title lines, the table, then a total, a confidentiality line and a
    page number, which are not users."""
    rows = [
        ["Lønnsrapport – ansatte per 01.03.2026", "", "", "", "", ""],
        ["Firma: Nordlys AS", "", "", "", "", ""],
        ["", "", "", "", "", ""],
        ["Ansattnr", "Fornavn", "Etternavn", "E-post", "Avdeling", "Stillingsprosent"],
    ]
    for p in people(42, "no", "nordlys.no"):
        rows.append([p["id"], p["first"], p["last"], p["email"], p["department"], "100"])
    rows += [
        ["", "", "", "", "", ""],
        ["Totalt: 42 ansatte", "", "", "", "", ""],
        ["Dette dokumentet inneholder personopplysninger og er konfidensielt.", "", "", "", "", ""],
        ["Side 1 av 1", "", "", "", "", ""],
    ]
    text = _csv(rows, delimiter=";").encode("cp1252")
    (folder / "lonnsrapport.csv").write_bytes(text)
    return {
        "file": "lonnsrapport.csv",
        "header": rows[3],
        "mapping": {
            "first_name": "Fornavn",
            "last_name": "Etternavn",
            "email": "E-post",
            "department": "Avdeling",
        },
        "groups": [],
        "valid_rows": 42,
        "invalid_rows": 0,
        "footer_rows": [48, 49, 50],
    }


def google_forms_en(folder: Path) -> Case:
    """Google Forms answers in English: every name is a question."""
    header = [
        "Timestamp", "Email Address", "What is your first name?", "What is your last name?",
        "Which department do you work in?", "Which teams would you like to join?",
    ]  # fmt: skip
    rows = [header]
    for i, p in enumerate(people(11, "en", "brightwave.co.uk")):
        teams = f"{p['group1']}, {p['group2']}" if i % 2 else p["group1"]
        stamp = f"3/{1 + i}/2026 9:{i:02d}:00"
        rows.append([stamp, p["email"], p["first"], p["last"], p["department"], teams])
    (folder / "form_responses.csv").write_text(_csv(rows), encoding="utf-8")
    return {
        "file": "form_responses.csv",
        "header": header,
        "mapping": {
            "first_name": header[2],
            "last_name": header[3],
            "email": header[1],
            "department": header[4],
        },
        "groups": [header[5]],
        "valid_rows": 11,
        "invalid_rows": 0,
    }


def hr_report_footer(folder: Path) -> Case:
    """An HR system's XLSX report: a title, the table, a total with its count in another
    column, a confidentiality line and a page number."""
    header = ["Employee ID", "First Name", "Last Name", "Work Email", "Department", "FTE"]
    rows: list[list[Any]] = [["Headcount report – March 2026"], [], header]
    for p in people(12, "en", "brightwave.co.uk"):
        rows.append([int(p["id"]), p["first"], p["last"], p["email"], p["department"], 1])
    rows += [
        [],
        ["Total employees", None, None, None, None, 12],
        ["Confidential – internal use only"],
        ["Page 1 of 1"],
    ]
    _xlsx(folder / "headcount_report.xlsx", rows, ("A1:F1",))
    return {
        "file": "headcount_report.xlsx",
        "header": header,
        "mapping": {
            "first_name": "First Name",
            "last_name": "Last Name",
            "email": "Work Email",
            "department": "Department",
        },
        "groups": [],
        "valid_rows": 12,
        "invalid_rows": 0,
        "footer_rows": [17, 18, 19],
    }


def group_separator(separator: str, name: str, suffix: str) -> Callable[[Path], Case]:
    """Group cells holding several groups joined by ``separator``."""

    def build(folder: Path) -> Case:
        header = ["First name", "Last name", "Email", "Department", "Groups"]
        rows: list[list[Any]] = [header]
        for i, p in enumerate(people(15, "en", "brightwave.co.uk")):
            groups = separator.join([p["group1"], p["group2"]]) if i % 3 else p["group1"]
            rows.append([p["first"], p["last"], p["email"], p["department"], groups])
        path = folder / f"{name}.{suffix}"
        if suffix == "xlsx":
            _xlsx(path, rows)
        else:
            path.write_text(_csv(rows), encoding="utf-8")
        return {
            "file": path.name,
            "header": header,
            "mapping": {
                "first_name": "First name",
                "last_name": "Last name",
                "email": "Email",
                "department": "Department",
            },
            "groups": ["Groups"],
            "group_separator": separator,
            "valid_rows": 15,
            "invalid_rows": 0,
        }

    build.__name__ = name
    return build


BUILDERS: tuple[Callable[[Path], Case], ...] = (
    google_workspace,
    m365_active_users,
    entra_download,
    ad_export,
    slack_members,
    successfactors_udf,
    keycloak_users,
    utf16_private_first,
    headerless_admin,
    one_name_column,
    given_surname,
    *(language_export(lang) for lang in LANGUAGE_HEADERS),
    google_forms_no,
    google_forms_en,
    two_row_header,
    payroll_footer,
    hr_report_footer,
    group_separator(";", "groups_semicolon", "csv"),
    group_separator("|", "groups_pipe", "csv"),
    group_separator(" / ", "groups_slash", "xlsx"),
    group_separator("\n", "groups_line_breaks", "xlsx"),
)


def write_corpus(folder: Path) -> list[Case]:
    """Write every file into ``folder``; return their expectations, in builder order."""
    return [build(folder) for build in BUILDERS]
