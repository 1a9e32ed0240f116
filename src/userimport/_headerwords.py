"""
The header words the mapping knows, per property and language: one table, read by
:mod:`userimport._synonyms`.

Sources: the column names of real exports and import templates in each language (Google
Workspace's user CSV, the Microsoft Entra "Download users" CSV, the Active Directory
``Get-ADUser`` properties, Keycloak's user representation, the SAP SuccessFactors user data file,
Slack's member list, Google Forms' automatic columns) and the localised field labels of HR and
payroll products (Visma, Tripletex, AFAS, Sage, Factorial, Personio, Zucchetti, Comarch,
Primavera). A name appears once per language; "|" goes between names.
"""

from __future__ import annotations

from .fields import DEFAULT_SCHEMA

__all__ = [
    "AT_WORK",
    "FULL_NAME",
    "LANGUAGES",
    "NAME_PREFIX",
    "OTHER",
    "OTHER_PERSON",
    "SECONDARY",
    "SIGN_IN",
    "WORDS",
]

#: The languages of the names, for explanations.
LANGUAGES = {
    "en": "English",
    "no": "Norwegian",
    "sv": "Swedish",
    "da": "Danish",
    "de": "German",
    "fi": "Finnish",
    "is": "Icelandic",
    "nl": "Dutch",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pl": "Polish",
    "pt": "Portuguese",
}

#: Names of each property, per language: the built-in fields' header names, declared in
#: :data:`userimport.fields.DEFAULT_SCHEMA` (``"|"`` between names, as below).
WORDS: dict[str, dict[str, str]] = {
    f.key: {language: "|".join(names) for language, names in f.headers.items()}
    for f in DEFAULT_SCHEMA.fields
}

#: Sign-in names: they feed the email only when their cells are addresses and no column
#: names a mailbox (Entra's ``userPrincipalName`` beside ``mail``, AD's ``SamAccountName``).
SIGN_IN: dict[str, str] = {
    "en": (
        "username|user name|login|login name|logon name|user logon name|sign-in name"
        "|sign in name|user principal name|upn|sam account name|samaccountname|account name"
    ),
    "no": "brukernavn|innlogging|pålogging",
    "sv": "användarnamn|inloggning",
    "da": "brugernavn|login",
    "de": "benutzername|anmeldename",
    "fi": "käyttäjätunnus|käyttäjänimi|kirjautumistunnus",
    "is": "notandanafn",
    "nl": "gebruikersnaam|inlognaam",
    "fr": "identifiant|nom d'utilisateur",
    "es": "usuario|nombre de usuario",
    "it": "nome utente|utente",
    "pl": "nazwa użytkownika|użytkownik",
    "pt": "utilizador|nome de utilizador|usuário|nome de usuário",
}

#: Names of a column holding a person's whole name (``Anna Berg`` or ``Berg, Anna``).
FULL_NAME: dict[str, str] = {
    "en": "name|full name|display name|employee name|employee|real name|person name|person",
    "no": "navn|fullt navn|fullstendig navn|ansatt|visningsnavn|medarbeider",
    "sv": "namn|fullständigt namn|anställd|medarbetare|visningsnamn",
    "da": "navn|fulde navn|fuldt navn|medarbejder|ansat",
    "de": "name|vollständiger name|mitarbeiter|mitarbeitername|anzeigename",
    "fi": "nimi|koko nimi|työntekijä",
    "is": "nafn|fullt nafn|starfsmaður",
    "nl": "naam|volledige naam|medewerker|weergavenaam",
    "fr": "nom complet|nom et prénom|nom prénom|prénom nom|collaborateur|salarié",
    "es": "nombre completo|nombre y apellidos|apellidos y nombre|empleado",
    "it": "nome completo|nome e cognome|cognome e nome|dipendente|nominativo",
    "pl": "imię i nazwisko|nazwisko i imię|pracownik",
    "pt": "nome completo|colaborador|funcionário|trabalhador",
}

#: A name prefix kept apart from the last name (Dutch ``tussenvoegsel``: ``van der``).
NAME_PREFIX = "tussenvoegsel|tussenvoegsels|voorvoegsel|voorvoegsels|name prefix|prefix"

#: Common headers that feed no property, per language: they tell a header row from data,
#: and they are never fuzzily taken for a property (``Employee ID`` is not ``email``).
OTHER: dict[str, str] = {
    "en": (
        "id|employee id|employee number|employee no|staff id|user id|person id|password"
        "|phone|phone number|mobile|mobile phone|telephone|title|job title|employee title"
        "|position|start date|end date|hire date|manager|supervisor|notes|note|comment"
        "|comments|location|office|city|country|address|status|active|enabled|language"
        "|locale|time zone|org unit path|cost center|cost centre|company|birth date"
        "|date of birth|role|roles|timestamp|primary group|object id|middle name|initials"
        "|gender|user type|job code|floor name|floor section|building id"
    ),
    "no": (
        "ansattnummer|ansattnr|passord|telefon|mobil|mobilnummer|stilling|stillingstittel"
        "|jobbtittel|startdato|sluttdato|leder|kommentar|merknad|kontor|adresse|land"
        "|firma|fødselsdato|rolle|roller|tidsmerke|tidsstempel"
    ),
    "sv": "anställningsnummer|lösenord|befattning|startdatum|chef|roll|tidsstämpel",
    "da": "medarbejdernummer|adgangskode|stillingsbetegnelse|tidsstempel",
    "de": (
        "personalnummer|passwort|titel|eintrittsdatum|vorgesetzter|anmerkung|bemerkung"
        "|rollen|zeitstempel"
    ),
    "fi": (
        "henkilönumero|työntekijänumero|puhelin|matkapuhelin|titteli|tehtävänimike"
        "|nimike|esimies|esihenkilö|aloituspäivä|salasana|kieli|sijainti|kustannuspaikka"
        "|yritys|huomautus|lisätiedot|tila|aikaleima"
    ),
    "is": (
        "kennitala|sími|farsími|gsm|starfsheiti|lykilorð|yfirmaður|upphafsdagur"
        "|athugasemd|athugasemdir|tímastimpill"
    ),
    "nl": (
        "personeelsnummer|telefoon|telefoonnummer|mobiel|functie|functietitel|wachtwoord"
        "|leidinggevende|startdatum|opmerking|opmerkingen|locatie|vestiging|kostenplaats"
        "|geboortedatum|voorletters|geslacht|tijdstempel"
    ),
    "fr": (
        "matricule|téléphone|portable|fonction|poste|intitulé du poste|mot de passe"
        "|responsable|date d'entrée|date d'embauche|commentaire|remarques|site|société"
        "|civilité|statut|langue|horodateur"
    ),
    "es": (
        "teléfono|móvil|celular|cargo|puesto|contraseña|jefe|fecha de alta"
        "|fecha de incorporación|observaciones|comentarios|ubicación|oficina|empresa|dni"
        "|número de empleado|estado|idioma|segundo apellido|marca temporal"
    ),
    "it": (
        "matricola|telefono|cellulare|qualifica|mansione|ruolo|responsabile"
        "|data di assunzione|sede|società|codice fiscale|stato|lingua"
        "|informazioni cronologiche"
    ),
    "pl": (
        "telefon komórkowy|stanowisko|hasło|przełożony|kierownik|data zatrudnienia|uwagi"
        "|lokalizacja|pesel|numer pracownika|język|sygnatura czasowa"
    ),
    "pt": (
        "telefone|telemóvel|função|palavra-passe|senha|chefia|gestor|data de admissão"
        "|observações|localização|nif|cpf|número de funcionário|idioma|carimbo de data/hora"
    ),
}

#: Words (a header's word, or the start of one) that make an email header name a second
#: address of the user's.
SECONDARY = (
    "recovery|private|privat|personal|personlig|secondary|backup|alternate|alternative|other"
    "|home|hjem|hem|gmail|annen|andra|proxy|alias|authentication|yksityinen|henkilökohtainen"
    "|persoonlijk|privé|personnel|personale|prywatny|pessoal|alternativo|alternativa"
)

#: Words that make an email header name someone else's address.
OTHER_PERSON = (
    "managers|manager|supervisors|supervisor|boss|leaders|leader|leders|leder|chefs|chef"
    "|vorgesetzten|vorgesetzter|approver|sponsor|assistant|parent|guardian|foresatt|esimies"
    "|esihenkilö|yfirmaður|leidinggevende|responsable|jefe|responsabile|przełożony|kierownik"
    "|chefia|gestor|supérieur"
)

#: Words that say an address (or a phone) is the one used at work: a header holding one is
#: read without it (``E-mail werk``, ``Email służbowy``, ``Adresse mail professionnelle``).
AT_WORK = (
    "work|business|office|company|corporate|jobb|arbeid|arbeit|geschäftlich|geschäftliche"
    "|dienstlich|dienstliche|tjänst|arbete|arbejde|työ|werk|zakelijk|zakelijke|travail"
    "|professionnel|professionnelle|pro|trabajo|corporativo|corporativa|lavoro|aziendale"
    "|służbowy|służbowa|trabalho|profissional|empresa|firma|firmen|vinnu"
)
