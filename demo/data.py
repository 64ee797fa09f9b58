"""The demo world loaded by `manage.py load_demo` (see recognition/demo.py).

China (CN) and eight partner countries of the Silk Road e-commerce corridor.
The authorities, merchants and issuer URLs are fictional (the reserved
`.example` TLD); the legal bases name the kind of bilateral e-commerce
cooperation memorandum such agreements rest on, for illustration only.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from accounts.models import Role

SUPERUSER = "superuser"


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@dataclass(frozen=True)
class KeySpec:
    """A demo key: its private half is fixtures/demo-keys/<file>."""

    file: str
    kid: str
    alg: str
    not_before: datetime
    status: str = "active"
    status_days_ago: int = 0  # when it was retired or compromised, before the load


@dataclass(frozen=True)
class CredentialSpec:
    type: str
    kid: str
    assurance: str | None = None  # default: the merchant's
    days: int = 365
    issued_days_ago: int = 0


@dataclass(frozen=True)
class MerchantSpec:
    registration_number: str
    legal_name: str
    assurance: str = "substantial"
    lei_base: str = ""  # 18 characters; load_demo adds the ISO 17442 check digits
    status: str = "active"
    credentials: tuple[CredentialSpec, ...] = ()


@dataclass(frozen=True)
class AuthoritySpec:
    country: str
    name: str
    issuer: str
    max_assurance: str
    keys: tuple[KeySpec, ...]
    merchants: tuple[MerchantSpec, ...]


@dataclass(frozen=True)
class AgreementSpec:
    destination: str
    issuer: str
    types: tuple[str, ...]
    min_assurance: str
    legal_basis: str
    valid_from: datetime
    valid_until: datetime | None = None
    status: str = "active"
    notes: str = "Demo data."


@dataclass(frozen=True)
class ProposalSpec:
    proposer: str  # a country administrator of `destination`
    destination: str
    issuer: str
    add_types: tuple[str, ...]  # widening: credential types the agreement would cover too
    reason: str


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str  # SUPERUSER or a recognition.models.Role value
    country: str
    password: str


CREDENTIAL_TYPES = (
    ("merchant-identity", "Merchant identity", "Who the merchant is: legal name, registration number, country."),
    ("export-licence", "Export licence", "The merchant may export the goods it sells across the border."),
    ("tax-registration", "Tax registration", "The merchant is registered with the tax administration."),
)

MI, EL, TR = "merchant-identity", "export-licence", "tax-registration"

CN = "https://demo-samr.cn.example/issuer"
CL = "https://demo-registro.cl.example/issuer"
VN = "https://demo-dkkd.vn.example/issuer"
KZ = "https://demo-egov.kz.example/issuer"
HU = "https://demo-ceginfo.hu.example/issuer"
AE = "https://demo-moec.ae.example/issuer"
PK = "https://demo-secp.pk.example/issuer"
RW = "https://demo-rdb.rw.example/issuer"
KH = "https://demo-moc.kh.example/issuer"


def _ed25519(prefix: str, kid: str, since: datetime) -> tuple[KeySpec, ...]:
    return (KeySpec(f"DEMO-ONLY-{prefix}-ed25519.pem", kid, "EdDSA", since),)


AUTHORITIES = (
    AuthoritySpec(
        "CN",
        "Market Regulation Enterprise Registry (demo)",
        CN,
        "high",
        keys=(
            # The 2023 key was retired 30 days before the load; what it signed
            # before then stays valid until it expires.
            KeySpec(
                "DEMO-ONLY-cn-samr-2023-ed25519-retired.pem", "cn-samr-2023", "EdDSA", utc(2023, 1, 1), "retired", 30
            ),
            KeySpec("DEMO-ONLY-cn-samr-ed25519.pem", "cn-samr-2025", "EdDSA", utc(2025, 1, 1)),
        ),
        merchants=(
            MerchantSpec(
                "91440300MA5DEMO01X",
                "Shenzhen Lianhai Cross-Border Trading Co., Ltd.",
                "high",
                lei_base="DEMO00CNSZLIANHAI0",
                credentials=(
                    CredentialSpec(MI, "cn-samr-2023", issued_days_ago=90),
                    CredentialSpec(EL, "cn-samr-2025"),
                ),
            ),
            MerchantSpec(
                "91330100MA2DEMO02K",
                "Hangzhou Qingshan Silk E-Commerce Co., Ltd.",
                credentials=(CredentialSpec(MI, "cn-samr-2025"), CredentialSpec(TR, "cn-samr-2025")),
            ),
            MerchantSpec(
                "91310000MA1DEMO03P",
                "Shanghai Dongfang Tea Export Co., Ltd.",
                status="suspended",
                credentials=(CredentialSpec(MI, "cn-samr-2025", issued_days_ago=60),),
            ),
        ),
    ),
    AuthoritySpec(
        "CL",
        "Registro de Empresas y Sociedades (demo)",
        CL,
        "substantial",
        keys=(KeySpec("DEMO-ONLY-cl-registro-es256.pem", "cl-registro-2024", "ES256", utc(2024, 1, 1)),),
        merchants=(
            MerchantSpec(
                "76.543.210-K",
                "Viña Los Andes Exportaciones SpA",
                lei_base="DEMO00CLVINAANDES0",
                credentials=(CredentialSpec(MI, "cl-registro-2024"), CredentialSpec(EL, "cl-registro-2024")),
            ),
            MerchantSpec(
                "77.123.456-3",
                "Frutas del Pacífico Limitada",
                credentials=(CredentialSpec(MI, "cl-registro-2024"),),
            ),
        ),
    ),
    AuthoritySpec(
        "VN",
        "National Business Registration Portal (demo)",
        VN,
        "substantial",
        keys=_ed25519("vn-dkkd", "vn-dkkd-2024", utc(2024, 1, 1)),
        merchants=(
            MerchantSpec("0312345678", "Song Hong Trading Company Limited"),
            MerchantSpec(
                "0109876543",
                "Mekong Coffee Export Joint Stock Company",
                credentials=(CredentialSpec(MI, "vn-dkkd-2024"),),
            ),
        ),
    ),
    AuthoritySpec(
        "KZ",
        "eGov Business Identification Registry (demo)",
        KZ,
        "high",
        keys=_ed25519("kz-egov", "kz-egov-2024", utc(2024, 1, 1)),
        merchants=(
            MerchantSpec(
                "190240012345",
                "Steppe Logistics LLP",
                "high",
                lei_base="DEMO00KZSTEPPELOG0",
                credentials=(CredentialSpec(MI, "kz-egov-2024"),),
            ),
            MerchantSpec("200340056789", "Almaty Wool Crafts LLP", "low"),
        ),
    ),
    AuthoritySpec(
        "HU",
        "Company Information Service (demo)",
        HU,
        "high",
        keys=(KeySpec("DEMO-ONLY-hu-ceginfo-ps256-rsa3072.pem", "hu-ceginfo-2024", "PS256", utc(2024, 1, 1)),),
        merchants=(
            MerchantSpec(
                "01-09-123456",
                "Duna Paprika Kft.",
                lei_base="DEMO00HUDUNAPAPRI0",
                credentials=(CredentialSpec(MI, "hu-ceginfo-2024"), CredentialSpec(EL, "hu-ceginfo-2024")),
            ),
            MerchantSpec("13-10-042424", "Balaton Porcelán Zrt.", "high"),
        ),
    ),
    AuthoritySpec(
        "AE",
        "Ministry of Economy Business Registry (demo)",
        AE,
        "high",
        keys=(KeySpec("DEMO-ONLY-ae-moec-rs256-rsa2048.pem", "ae-moec-2023", "RS256", utc(2023, 1, 1)),),
        merchants=(
            MerchantSpec(
                "CN-1234567",
                "Gulf Gateway General Trading LLC",
                "high",
                lei_base="DEMO00AEGULFGATEW0",
                credentials=(CredentialSpec(MI, "ae-moec-2023"),),
            ),
            MerchantSpec("CN-7654321", "Falcon Dates Trading LLC"),
        ),
    ),
    AuthoritySpec(
        "PK",
        "Company Registration Office (demo)",
        PK,
        "substantial",
        keys=(
            # Reported compromised 10 days before the load: everything it ever
            # signed is refused, including the credential below.
            KeySpec(
                "DEMO-ONLY-pk-secp-2024-ed25519-compromised.pem",
                "pk-secp-2024",
                "EdDSA",
                utc(2024, 1, 1),
                "compromised",
                10,
            ),
            KeySpec("DEMO-ONLY-pk-secp-ed25519.pem", "pk-secp-2026", "EdDSA", utc(2026, 1, 1)),
        ),
        merchants=(
            MerchantSpec(
                "0123456",
                "Indus Textiles (Private) Limited",
                credentials=(CredentialSpec(MI, "pk-secp-2024", issued_days_ago=120),),
            ),
            MerchantSpec(
                "0145678",
                "Lahore Leather Works (Private) Limited",
                credentials=(CredentialSpec(MI, "pk-secp-2026"),),
            ),
            MerchantSpec(
                "0234567",
                "Sialkot Sports Goods (Private) Limited",
                status="revoked",
                credentials=(CredentialSpec(MI, "pk-secp-2026", issued_days_ago=45),),
            ),
        ),
    ),
    AuthoritySpec(
        "RW",
        "Development Board Business Registry (demo)",
        RW,
        "substantial",
        keys=_ed25519("rw-rdb", "rw-rdb-2025", utc(2025, 1, 1)),
        merchants=(
            MerchantSpec(
                "103456789",
                "Kigali Coffee Collective Ltd",
                credentials=(CredentialSpec(MI, "rw-rdb-2025"),),
            ),
            MerchantSpec("108765432", "Thousand Hills Crafts Ltd", "low"),
        ),
    ),
    AuthoritySpec(
        "KH",
        "Ministry of Commerce Business Registration (demo)",
        KH,
        "low",
        keys=_ed25519("kh-moc", "kh-moc-2025", utc(2025, 1, 1)),
        merchants=(
            MerchantSpec(
                "00012345",
                "Angkor Silk House Co., Ltd.",
                "low",
                credentials=(CredentialSpec(MI, "kh-moc-2025"),),
            ),
            MerchantSpec("00054321", "Kampot Pepper Trading Co., Ltd.", "low"),
        ),
    ),
)

CN_CL_MEMORANDUM = (
    "Memorandum of Understanding on Electronic Commerce Cooperation between China and Chile (2016), "
    "the first bilateral e-commerce cooperation memorandum of the Silk Road e-commerce"
)


def _memorandum(partner: str) -> str:
    return f"Bilateral e-commerce cooperation memorandum, China and {partner} (Silk Road e-commerce; demo reference)"


# (destination recognizes issuer): mutual CN-CL and CN-KZ, one-way CN<-VN,
# suspended HU<-CN, type-limited CN<-HU, expired CN<-AE, terminated AE<-CN,
# draft CN<-RW, CN<-KH above what KH may issue, CN<-PK with a compromised key.
AGREEMENTS = (
    AgreementSpec("CN", CL, (MI, EL, TR), "substantial", CN_CL_MEMORANDUM, utc(2017, 1, 1)),
    AgreementSpec("CL", CN, (MI, EL), "substantial", CN_CL_MEMORANDUM, utc(2017, 1, 1)),
    AgreementSpec("CN", VN, (MI,), "substantial", _memorandum("Vietnam"), utc(2018, 1, 1), notes="Demo: one-way."),
    AgreementSpec("CN", KZ, (MI, EL), "low", _memorandum("Kazakhstan"), utc(2019, 1, 1)),
    AgreementSpec("KZ", CN, (MI,), "substantial", _memorandum("Kazakhstan"), utc(2019, 1, 1)),
    AgreementSpec(
        "HU",
        CN,
        (MI,),
        "substantial",
        _memorandum("Hungary"),
        utc(2020, 1, 1),
        status="suspended",
        notes="Demo: suspended pending review.",
    ),
    AgreementSpec("CN", HU, (EL,), "substantial", _memorandum("Hungary"), utc(2020, 1, 1), notes="Demo: export only."),
    AgreementSpec(
        "CN",
        AE,
        (MI,),
        "substantial",
        _memorandum("the United Arab Emirates"),
        utc(2019, 1, 1),
        utc(2025, 1, 1),
        notes="Demo: active, but its window ended on 2025-01-01.",
    ),
    AgreementSpec(
        "AE",
        CN,
        (MI,),
        "substantial",
        _memorandum("the United Arab Emirates"),
        utc(2019, 1, 1),
        status="terminated",
        notes="Demo: terminated.",
    ),
    AgreementSpec("CN", PK, (MI,), "substantial", _memorandum("Pakistan"), utc(2021, 1, 1)),
    AgreementSpec(
        "CN", RW, (MI,), "substantial", "", utc(2027, 1, 1), status="draft", notes="Demo: under negotiation."
    ),
    AgreementSpec("CN", KH, (MI,), "substantial", _memorandum("Cambodia"), utc(2021, 1, 1)),
)

# Demo passwords, public like the demo keys: for a local first run only.
ACCOUNTS = (
    AccountSpec("demo-admin", SUPERUSER, "", "Demo-Superuser-Silk-Road-2016"),
    AccountSpec("demo-cn-admin", Role.COUNTRY_ADMIN, "CN", "Demo-China-Admin-Silk-Road-2016"),
    # A second administrator of the same country: one proposes a change of
    # trust, the other approves it (two people for every widening of trust).
    AccountSpec("demo-cn-admin2", Role.COUNTRY_ADMIN, "CN", "Demo-China-Second-Admin-Silk-Road-2016"),
    AccountSpec("demo-cl-admin", Role.COUNTRY_ADMIN, "CL", "Demo-Chile-Admin-Silk-Road-2016"),
    AccountSpec("demo-regulator", Role.REGULATOR, "", "Demo-Regulator-Silk-Road-2016"),
)
# Four-eyes on a first run: CN<-HU (export only) to cover merchant identity, awaiting demo-cn-admin2.
PENDING_PROPOSAL = ProposalSpec("demo-cn-admin", "CN", HU, (MI,), "Hungary's registry now issues merchant identity")


@dataclass(frozen=True)
class ApiKeySpec:
    """A demo API key with a FIXED, published secret, so that the README's
    curl examples work on every fresh clone. The key is `<prefix>.<secret>`,
    as djangorestframework-api-key writes them; only its hash is stored."""

    name: str
    role: str  # a recognition.models.KeyRole value
    prefix: str  # 8 characters
    secret: str  # 32 characters

    @property
    def key(self) -> str:
        return f"{self.prefix}.{self.secret}"


# Demo API keys, public like the demo passwords: for a local first run only.
API_KEYS = (
    ApiKeySpec("demo-platform", "platform", "demoplat", "DEMOonlyPlatformKeySilkRoad2016x"),
    ApiKeySpec("demo-regulator-key", "regulator", "demoregu", "DEMOonlyRegulatorKeySilkRoad2016"),
)
