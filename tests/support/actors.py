"""The fixed, named actors every test shares (STYLE.md).

China (CN) recognizes Chile's (CL) business registry for merchant identity;
Kazakhstan (KZ) has an authority and no agreement at all. alice administers
China, bob administers Chile, rita is a regulator, root is the superuser.
alice2 is China's second administrator: the one who approves alice's
widenings of trust (four-eyes).
"alice must see none of bob's things to change."
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_create_with_role
from identity.jose.key_files import public_jwk_of
from identity.models import Authority, AuthorityKey, CredentialType, Merchant
from identity.services.authorities import authority_create
from identity.services.credentials import credential_type_create
from identity.services.keys import key_register
from identity.services.merchants import merchant_register
from recognition.models import RecognitionAgreement
from recognition.services.agreements import agreement_create

PASSWORD = "correct-horse-battery-staple-42"


@dataclass
class Actor:
    authority: Authority
    key: AuthorityKey
    private_key: Any
    merchant: Merchant


@dataclass
class World:
    merchant_identity: CredentialType
    export_licence: CredentialType
    cn: Actor
    cl: Actor
    kz: Actor
    cn_recognizes_cl: RecognitionAgreement
    alice: Any  # CN country administrator
    alice2: Any  # CN's second country administrator
    bob: Any  # CL country administrator
    rita: Any  # regulator
    root: Any  # superuser


def make_actor(country: str, slug: str, name: str) -> Actor:
    authority = authority_create(country=country, name=name, issuer=f"https://{slug}.test/issuer")
    private_key = ed25519.Ed25519PrivateKey.generate()
    key = key_register(
        authority=authority,
        jwk=public_jwk_of(private_key),
        not_before=timezone.now() - timedelta(days=30),
    )
    merchant = merchant_register(
        authority=authority,
        registration_number=f"{country}-0001",
        legal_name=f"{name} Test Trading Co.",
        assurance="substantial",
    )
    return Actor(authority=authority, key=key, private_key=private_key, merchant=merchant)


def build_world() -> World:
    merchant_identity = credential_type_create(code="merchant-identity", name="Merchant identity")
    export_licence = credential_type_create(code="export-licence", name="Export licence")
    cn = make_actor("CN", "samr-cn", "Market Regulation Test Bureau")
    cl = make_actor("CL", "registro-cl", "Registro de Empresas de Prueba")
    kz = make_actor("KZ", "egov-kz", "Business Registry Test Centre")
    agreement = agreement_create(
        destination="CN",
        authority=cl.authority,
        credential_types=[merchant_identity],
        min_assurance="low",
        legal_basis="CN-CL e-commerce cooperation memorandum (2016)",
        valid_from=timezone.now() - timedelta(days=365),
        activate=True,
    )
    alice, _ = user_create_with_role(username="alice", role=Role.COUNTRY_ADMIN, country="CN", password=PASSWORD)
    alice2, _ = user_create_with_role(username="alice2", role=Role.COUNTRY_ADMIN, country="CN", password=PASSWORD)
    bob, _ = user_create_with_role(username="bob", role=Role.COUNTRY_ADMIN, country="CL", password=PASSWORD)
    rita, _ = user_create_with_role(username="rita", role=Role.REGULATOR, password=PASSWORD)
    root = get_user_model().objects.create_superuser("root", "root@registry.test", PASSWORD)
    return World(
        merchant_identity=merchant_identity,
        export_licence=export_licence,
        cn=cn,
        cl=cl,
        kz=kz,
        cn_recognizes_cl=agreement,
        alice=alice,
        alice2=alice2,
        bob=bob,
        rita=rita,
        root=root,
    )
