"""tokens.py -- test bearer tokens (ES256 JWTs) minted with the openssl CLI.

Independent of the C code on purpose: a token minted here and accepted by a
service shows the service speaks standard JWT, not just its own dialect.

    priv, pub = gen_keypair(tmpdir)
    tok = mint(priv, 'sw-01', ['social_worker'], 'la-leic')

mint() can also make the tokens a service must refuse: alg='none' (no
signature), alg='HS256' (HMAC keyed with the public key PEM: the algorithm
confusion attack), exp_in < 0 (expired), other iss/aud, extra header fields.
"""

import base64
import json
import os
import subprocess
import tempfile
import time

ISSUER = 'homeward-dev'
AUDIENCE = 'homeward'


def b64url(data):
    """base64url without padding (RFC 7515 section 2)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def gen_keypair(directory):
    """A fresh EC P-256 key pair as PEM files in directory.
    Returns (private_key_path, public_key_path)."""
    os.makedirs(directory, exist_ok=True)
    priv = os.path.join(directory, 'jwt-private.pem')
    pub = os.path.join(directory, 'jwt-public.pem')
    subprocess.run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt',
                    'ec_paramgen_curve:P-256', '-out', priv],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(priv, 0o600)
    subprocess.run(['openssl', 'pkey', '-in', priv, '-pubout', '-out', pub],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return priv, pub


def _der_read(buf, pos, tag):
    """Read one DER element with the expected tag; returns (content, next)."""
    if buf[pos] != tag:
        raise ValueError(f'DER: expected tag {tag:#x} at {pos}, got {buf[pos]:#x}')
    pos += 1
    length = buf[pos]
    pos += 1
    if length & 0x80:
        nbytes = length & 0x7F
        length = int.from_bytes(buf[pos:pos + nbytes], 'big')
        pos += nbytes
    return buf[pos:pos + length], pos + length


def der_to_raw_sig(der, size=32):
    """ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s,
    each left-padded to size bytes (JWS ES256 form)."""
    seq, _ = _der_read(der, 0, 0x30)
    r, pos = _der_read(seq, 0, 0x02)
    s, _ = _der_read(seq, pos, 0x02)
    r = r.lstrip(b'\x00')
    s = s.lstrip(b'\x00')
    if len(r) > size or len(s) > size:
        raise ValueError('DER: integer too long for the curve')
    return r.rjust(size, b'\x00') + s.rjust(size, b'\x00')


def es256_sign(privkey_path, signing_input):
    """Raw 64-byte ES256 signature of signing_input (bytes)."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(signing_input)
        f.flush()
        der = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', privkey_path, f.name],
                             check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE).stdout
    return der_to_raw_sig(der)


def _hs256(key, signing_input):
    import hashlib
    import hmac
    return hmac.new(key, signing_input, hashlib.sha256).digest()


def mint(privkey_path, sub, roles, org, homes=(), iss=ISSUER, aud=AUDIENCE, exp_in=3600,
         alg='ES256', extra_header=None, name=None, nbf_in=None, extra_claims=None,
         hmac_key=None):
    """A compact JWT. roles: a list of role names (a str is one role).
    exp_in: seconds from now (negative: already expired). nbf_in: seconds
    from now for nbf, or None to leave it out. extra_claims replace or add
    claims (a value of None removes the claim). For alg='HS256' the HMAC key
    is hmac_key, by default the bytes of the public key PEM beside the
    private key (the algorithm-confusion attack)."""
    if isinstance(roles, str):
        roles = [roles]
    now = int(time.time())
    header = {'alg': alg, 'typ': 'JWT'}
    if extra_header:
        header.update(extra_header)
    claims = {'sub': sub, 'org': org, 'roles': list(roles), 'homes': list(homes),
              'iss': iss, 'aud': aud, 'iat': now, 'exp': now + exp_in}
    if name is not None:
        claims['name'] = name
    if nbf_in is not None:
        claims['nbf'] = now + nbf_in
    for k, v in (extra_claims or {}).items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    signing_input = (b64url(json.dumps(header, separators=(',', ':'))) + '.' +
                     b64url(json.dumps(claims, separators=(',', ':')))).encode('ascii')
    if alg == 'ES256':
        sig = es256_sign(privkey_path, signing_input)
    elif alg == 'none':
        sig = b''
    elif alg == 'HS256':
        if hmac_key is None:
            pub = os.path.join(os.path.dirname(privkey_path), 'jwt-public.pem')
            with open(pub, 'rb') as f:
                hmac_key = f.read()
        sig = _hs256(hmac_key, signing_input)
    else:
        # Any other alg: sign with ES256 anyway; the header's claim is what
        # the service must refuse.
        sig = es256_sign(privkey_path, signing_input)
    return signing_input.decode('ascii') + '.' + b64url(sig)


def bearer(token, purpose=None, request_id=None):
    """gRPC metadata for a call carrying token."""
    md = [('authorization', f'Bearer {token}')]
    if purpose:
        md.append(('x-purpose', purpose))
    if request_id:
        md.append(('x-request-id', request_id))
    return md
