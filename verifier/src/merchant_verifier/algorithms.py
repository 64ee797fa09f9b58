"""The algorithms and the token type of a merchant credential (DESIGN §3, §4):
the one allow-list every part of the registry and of this package reads (key
intake, the registry's model choices, token parsing, the signature layer)."""

# The allow-list: exact, case-sensitive names (RFC 8725 §3.1), each with a
# label for people, in the order the registry shows them.
ALGORITHMS = (
    ("EdDSA", "EdDSA (Ed25519)"),
    ("ES256", "ES256 (P-256)"),
    ("ES384", "ES384 (P-384)"),
    ("PS256", "PS256 (RSA-PSS)"),
    ("RS256", "RS256 (RSA PKCS#1 v1.5)"),
)
ALLOWED_ALGS = frozenset(name for name, _ in ALGORITHMS)

# RFC 8725 §3.11 explicit typing; RFC 7515 §4.1.9 lets the "application/"
# prefix be omitted and compares case-insensitively.
CREDENTIAL_TYP = "merchant-credential+jwt"
ACCEPTED_TYPS = frozenset({CREDENTIAL_TYP, f"application/{CREDENTIAL_TYP}"})
# Header members that would name a key source or an extension: keys come only
# from the registry, and nothing is ever fetched (DESIGN §5 untrusted_header).
UNTRUSTED_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit", "b64", "zip", "cty")
