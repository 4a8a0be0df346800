"""Access tokens checked as a resource server must: a JWT against the issuer's keys, or an introspection answer.

Only asymmetric signatures are accepted (no `none`, no HMAC, which a public key would let anyone
forge), and each only with a key of its own family and curve. `exp`, `iss` and `aud` are required;
`nbf` is honoured. Messages never quote the token or anything taken from it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from naftiko_runtime.adapters.oauth_server import AuthorizationServer, KeySet

# Algorithm: (key type, curve or None).
ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", "Ed25519"),
}


class InvalidToken(Exception):
    """Why a token is refused, in words safe to show the caller."""


@dataclass(frozen=True, slots=True)
class Expected:
    issuers: frozenset[str]
    audiences: tuple[str, ...]
    leeway: float = 30.0


async def verified_jwt(token: str, server: AuthorizationServer, expected: Expected) -> dict[str, Any]:
    """The claims of `token` once its signature, issuer, audience and validity period check out."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("the token is not a JWT") from None
    algorithm = header.get("alg")
    if algorithm == "none":
        raise InvalidToken("unsigned tokens (alg none) are not accepted")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise InvalidToken(f"the token's signing algorithm is not one of {', '.join(ALGORITHMS)}")
    kid = header.get("kid")
    kid = kid if isinstance(kid, str) else None
    keys = await server.keys(kid)
    candidates = [index for index, key in enumerate(keys.keys) if _fits(key, algorithm, kid)]
    if not candidates:
        raise InvalidToken("the authorization server has no key that matches the token's key id and algorithm")
    for index in candidates:
        key = _parsed(keys, index, algorithm)
        if key is None:
            continue
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=expected.audiences,
                issuer=expected.issuers,
                leeway=expected.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token is not meant for this resource (aud)") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token was not issued by the configured authorization server (iss)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token has no {exc.claim} claim") from None
        except jwt.InvalidIssuedAtError:
            raise InvalidToken("the token claims to be issued in the future (iat)") from None
        except (jwt.PyJWTError, TypeError, ValueError):
            raise InvalidToken("the token is malformed") from None
    raise InvalidToken("the token's signature does not verify")


def checked_introspection(answer: Mapping[str, Any], expected: Expected) -> Mapping[str, Any]:
    """An RFC 7662 answer accepted only if active, and (where it says) current, ours and from our issuer."""
    if answer.get("active") is not True:
        raise InvalidToken("the authorization server reports the token is not active")
    now = time.time()
    expires = answer.get("exp")
    if isinstance(expires, int | float) and expires < now - expected.leeway:
        raise InvalidToken("the token has expired")
    not_before = answer.get("nbf")
    if isinstance(not_before, int | float) and not_before > now + expected.leeway:
        raise InvalidToken("the token is not valid yet (nbf)")
    issuer = answer.get("iss")
    if issuer is not None and (not isinstance(issuer, str) or issuer not in expected.issuers):
        raise InvalidToken("the token was not issued by the configured authorization server (iss)")
    audience = answer.get("aud")
    if audience is not None:
        named = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if not set(expected.audiences) & {a for a in named if isinstance(a, str)}:
            raise InvalidToken("the token is not meant for this resource (aud)")
    return answer


def granted_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """RFC 9068/RFC 7662 `scope`: a space-separated string (a list is tolerated)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scope, list):
        return frozenset(item for item in scope if isinstance(item, str))
    return frozenset()


def _fits(key: Mapping[str, Any], algorithm: str, kid: str | None) -> bool:
    family, curve = ALGORITHMS[algorithm]
    return (
        key.get("use", "sig") == "sig"
        and (kid is None or key.get("kid") == kid)
        and key.get("alg", algorithm) == algorithm
        and key.get("kty") == family
        and (curve is None or key.get("crv") == curve)
    )


def _parsed(keys: KeySet, index: int, algorithm: str) -> Any:
    """The key at `index` as PyJWT needs it for `algorithm`, parsed once per key set (None if unusable)."""
    memo = (index, algorithm)
    if memo not in keys.parsed:
        try:
            keys.parsed[memo] = jwt.PyJWK(dict(keys.keys[index]), algorithm=algorithm)
        except (jwt.PyJWTError, ValueError, TypeError):
            keys.parsed[memo] = None
    return keys.parsed[memo]
