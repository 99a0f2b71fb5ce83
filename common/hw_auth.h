/* hw_auth.h -- bearer tokens: ES256 JWTs verified against a configured
 * public key, algorithm pinned.
 *
 * Refused: alg other than ES256 (including "none" and HS256 "signed" with the
 * public key), a bad signature, exp in the past, nbf in the future (30 s
 * leeway for both), wrong iss, aud not containing the configured audience,
 * missing sub/org/roles. Signatures are compared by OpenSSL's ECDSA verify;
 * the header's alg is checked before any cryptography runs. */
#ifndef HW_AUTH_H
#define HW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HW_MAX_ROLES 16
#define HW_MAX_HOMES 64     /* the most homes a token may name */
#define HW_HOME_ID_MAX 64   /* bytes per home id, NUL included */

/* Ownership of homes: hw_auth_verify allocates it with malloc, exactly
 * n_homes entries (NULL when n_homes == 0), and the caller releases it with
 * hw_principal_release. A token rarely names more than a few homes, and a
 * principal lives in every call record, so the ids are kept out of line.
 * A principal copied by value shares the homes array with the original: the
 * copy is valid only while the original is, and only one of them may be
 * released. A principal built by hand may point homes at its own storage
 * (e.g. a `char buf[N][HW_HOME_ID_MAX]`); it then must not be released. */
typedef struct hw_principal {
    char sub[128];          /* subject: the person's or service's id */
    char name[128];         /* display name (a professional, never a child) */
    char org[64];           /* organisation: a force or local authority code */
    int n_roles;
    char roles[HW_MAX_ROLES][32];
    int n_homes;
    char (*homes)[HW_HOME_ID_MAX]; /* homes the person works at or is SPOC for */
} hw_principal;

bool hw_principal_has_role(const hw_principal *p, const char *role);
bool hw_principal_has_home(const hw_principal *p, const char *home_id);

/* Free the homes hw_auth_verify allocated; sets homes = NULL, n_homes = 0.
 * Safe on a zeroed principal, on NULL and when called twice. */
void hw_principal_release(hw_principal *p);

typedef struct hw_auth hw_auth;

/* pubkey_pem: an EC P-256 public key in PEM. Returns NULL with err set. */
hw_auth *hw_auth_create(const char *pubkey_pem, const char *issuer,
                        const char *audience, char *err, size_t errlen);
void hw_auth_free(hw_auth *a);

/* Verify a compact JWT (without "Bearer "). now_s: Unix seconds.
 * Returns 0 and fills out (its homes malloc'd: hw_principal_release it), or
 * -1 with a reason in err (no token content is ever copied into err) and out
 * zeroed, nothing allocated. out is overwritten, not released: release a
 * principal that holds homes before verifying into it again. */
int hw_auth_verify(const hw_auth *a, const char *token, int64_t now_s,
                   hw_principal *out, char *err, size_t errlen);

/* Mint an ES256 JWT from a JSON object of claims (development tokens and
 * tests). Returns a malloc'd string, or NULL with err set. */
char *hw_jwt_mint_es256(const char *privkey_pem, const char *claims_json,
                        char *err, size_t errlen);

/* Read a whole file into a malloc'd NUL-terminated string, or NULL. */
char *hw_read_file(const char *path);

#endif
