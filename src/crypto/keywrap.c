/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "provcrypto.h"

/* EVP takes int lengths. (<limits.h> is shadowed by src/basic/limits.h on the include path.) */
#define EVP_LEN_MAX ((size_t)INT32_MAX)
_Static_assert(sizeof(int) >= 4, "int narrower than 32 bits");

/* Secrets at rest: version(1) || nonce(12) || AES-256-GCM ciphertext || tag(16). The version byte and the
 * caller's aad (which binds the blob to its row) are both authenticated. */
#define KEYWRAP_VERSION    1u
#define KEYWRAP_NONCE_SIZE 12u
#define KEYWRAP_TAG_SIZE   16u
#define KEYWRAP_HEADER     (1u + KEYWRAP_NONCE_SIZE)

static void cipher_ctx_freep(EVP_CIPHER_CTX **c) {
        EVP_CIPHER_CTX_free(*c); /* the provider wipes the key schedule */
}

/* Feeds version || aad as additional data. */
static int gcm_aad(EVP_CIPHER_CTX *ctx, bool enc, const char *aad) {
        uint8_t version = KEYWRAP_VERSION;
        size_t n = aad ? strlen(aad) : 0;
        int outl;

        if (n > EVP_LEN_MAX)
                return -EINVAL;
        if ((enc ? EVP_EncryptUpdate(ctx, NULL, &outl, &version, 1)
                 : EVP_DecryptUpdate(ctx, NULL, &outl, &version, 1)) != 1)
                return -EIO;
        if (n > 0 && (enc ? EVP_EncryptUpdate(ctx, NULL, &outl, (const uint8_t *)aad, (int)n)
                          : EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *)aad, (int)n)) != 1)
                return -EIO;
        return 0;
}

int keywrap_seal(const uint8_t master[static KEYWRAP_MASTER_KEY_SIZE], const char *aad, const uint8_t *plain,
                 size_t len, uint8_t *out, size_t outsz) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        uint8_t *nonce, *ct, *tag;
        int outl = 0, finl = 0, r;

        if (!master || !out || (!plain && len > 0))
                return -EINVAL;
        if (len > EVP_LEN_MAX - KEYWRAP_OVERHEAD || outsz < len + KEYWRAP_OVERHEAD)
                return -EMSGSIZE;

        nonce = out + 1;
        ct = out + KEYWRAP_HEADER;
        tag = ct + len;

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        out[0] = KEYWRAP_VERSION;
        if (RAND_bytes(nonce, KEYWRAP_NONCE_SIZE) != 1) {
                r = -EIO;
                goto fail;
        }
        if (EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, KEYWRAP_NONCE_SIZE, NULL) != 1 ||
            EVP_EncryptInit_ex2(ctx, NULL, master, nonce, NULL) != 1) {
                r = -EIO;
                goto fail;
        }
        r = gcm_aad(ctx, true, aad);
        if (r < 0)
                goto fail;
        if ((len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1) ||
            EVP_EncryptFinal_ex(ctx, ct + outl, &finl) != 1 || (size_t)(outl + finl) != len ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, KEYWRAP_TAG_SIZE, tag) != 1) {
                r = -EIO;
                goto fail;
        }
        return (int)(len + KEYWRAP_OVERHEAD);

fail:
        explicit_bzero_safe(out, len + KEYWRAP_OVERHEAD);
        return r;
}

int keywrap_open(const uint8_t master[static KEYWRAP_MASTER_KEY_SIZE], const char *aad, const uint8_t *blob,
                 size_t blob_len, uint8_t *out, size_t outsz) {
        _cleanup_(cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
        uint8_t tag[KEYWRAP_TAG_SIZE], final_out[16];
        const uint8_t *nonce, *ct;
        int outl = 0, finl = 0, r;
        size_t len;

        if (!master || !blob || (!out && outsz > 0))
                return -EINVAL;
        if (blob_len < KEYWRAP_OVERHEAD || blob[0] != KEYWRAP_VERSION)
                return -EBADMSG;
        len = blob_len - KEYWRAP_OVERHEAD;
        if (len > EVP_LEN_MAX - KEYWRAP_OVERHEAD || outsz < len)
                return -EMSGSIZE;
        if (len > 0 && !out)
                return -EINVAL;

        nonce = blob + 1;
        ct = blob + KEYWRAP_HEADER;
        memcpy(tag, ct + len, sizeof(tag)); /* the ctrl call below wants a non-const pointer */

        ctx = EVP_CIPHER_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, KEYWRAP_NONCE_SIZE, NULL) != 1 ||
            EVP_DecryptInit_ex2(ctx, NULL, master, nonce, NULL) != 1)
                return -EIO;
        r = gcm_aad(ctx, false, aad);
        if (r < 0)
                return r;
        if (len > 0 && EVP_DecryptUpdate(ctx, out, &outl, ct, (int)len) != 1) {
                r = -EIO;
                goto fail;
        }
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, KEYWRAP_TAG_SIZE, tag) != 1) {
                r = -EIO;
                goto fail;
        }
        /* tag mismatch: damaged blob, wrong master key or wrong aad */
        if (EVP_DecryptFinal_ex(ctx, out ? out + outl : final_out, &finl) != 1 ||
            (size_t)(outl + finl) != len) {
                r = -EBADMSG;
                goto fail;
        }
        return (int)len;

fail:
        if (out)
                explicit_bzero_safe(out, len);
        return r;
}
