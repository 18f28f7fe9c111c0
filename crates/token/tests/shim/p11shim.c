/*
 * p11shim: a FAKE PKCS#11 module for tests only, named as such. It stands in for the
 * two things SoftHSM2 cannot show:
 *
 *  - a reader with a PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH): the PIN is typed on
 *    the reader's own keypad and C_Login receives none;
 *  - a misbehaving vendor module that answers CKR_BUFFER_TOO_SMALL to C_Sign although
 *    the buffer has the length the module itself announced.
 *
 * It dlopens the real SoftHSM2 (/usr/lib/softhsm/libsofthsm2.so, or P11SHIM_MODULE) and
 * hands out a copy of SoftHSM's CK_FUNCTION_LIST in which six entries are its own:
 * C_GetFunctionList, C_GetTokenInfo, C_OpenSession, C_CloseSession (counted only),
 * C_Login and C_Sign. Everything else goes straight to SoftHSM, so keys, certificates,
 * sessions and login state are SoftHSM's, for real.
 *
 * Set once, before the module is loaded (environment):
 *   P11SHIM_CONTROL  a file read at every call that consults it (so a test changes the
 *                    behaviour by rewriting the file, never the environment), of lines
 *                    P11SHIM_PINPAD=1              be a PIN-pad reader
 *                    P11SHIM_BUFFER_TOO_SMALL=N    refuse the next N C_Sign calls that
 *                                                  bring an output buffer
 *                    (a missing file or key: 0, an honest module)
 *   P11SHIM_LOG      a file the shim appends one line per call it handles to; the
 *                    test reads it. Never a PIN, nor its length: only flags and codes.
 *   P11SHIM_PAD_PIN  the PIN "typed on the keypad": what a PIN-pad C_Login (NULL PIN)
 *                    logs in to SoftHSM with, as the reader's firmware would.
 *   P11SHIM_MODULE   the real module (default /usr/lib/softhsm/libsofthsm2.so).
 *
 * Log lines:
 *   C_OpenSession rv=0x<hex> / C_CloseSession rv=0x<hex>
 *   C_Login user=<n> pin=absent|given rv=0x<hex>   (pin= is what the CALLER passed)
 *   C_Sign refused=buffer_too_small                (an answer of the fake)
 *   C_Sign forwarded buffer=null|given rv=0x<hex>
 * The number of "refused" lines already in the log is how many refusals have been
 * made: a test starts a case by emptying the log.
 *
 * Self-contained: the few PKCS#11 v2.40 types it needs are declared below (the layout
 * of every platform this runs on, Linux: no packing, CK_ULONG is unsigned long), so no
 * development package is needed to build it:
 *   cc -shared -fPIC -o p11shim.so p11shim.c -ldl
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_FLAGS;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_ULONG CK_USER_TYPE;
typedef unsigned char CK_BYTE;
typedef unsigned char CK_UTF8CHAR;

#define CKR_OK 0x0UL
#define CKR_GENERAL_ERROR 0x5UL
#define CKR_ARGUMENTS_BAD 0x7UL
#define CKR_BUFFER_TOO_SMALL 0x150UL
#define CKF_PROTECTED_AUTHENTICATION_PATH 0x100UL

typedef struct {
    CK_BYTE major;
    CK_BYTE minor;
} CK_VERSION;

typedef struct {
    CK_UTF8CHAR label[32];
    CK_UTF8CHAR manufacturerID[32];
    CK_UTF8CHAR model[16];
    CK_UTF8CHAR serialNumber[16];
    CK_FLAGS flags;
    CK_ULONG ulMaxSessionCount;
    CK_ULONG ulSessionCount;
    CK_ULONG ulMaxRwSessionCount;
    CK_ULONG ulRwSessionCount;
    CK_ULONG ulMaxPinLen;
    CK_ULONG ulMinPinLen;
    CK_ULONG ulTotalPublicMemory;
    CK_ULONG ulFreePublicMemory;
    CK_ULONG ulTotalPrivateMemory;
    CK_ULONG ulFreePrivateMemory;
    CK_VERSION hardwareVersion;
    CK_VERSION firmwareVersion;
    CK_UTF8CHAR utcTime[16];
} CK_TOKEN_INFO;

typedef struct CK_FUNCTION_LIST CK_FUNCTION_LIST;
typedef CK_RV (*GetFunctionList)(CK_FUNCTION_LIST **);
typedef CK_RV (*GetTokenInfo)(CK_SLOT_ID, CK_TOKEN_INFO *);
typedef CK_RV (*OpenSession)(CK_SLOT_ID, CK_FLAGS, void *, void *, CK_SESSION_HANDLE *);
typedef CK_RV (*CloseSession)(CK_SESSION_HANDLE);
typedef CK_RV (*Login)(CK_SESSION_HANDLE, CK_USER_TYPE, CK_UTF8CHAR *, CK_ULONG);
typedef CK_RV (*Sign)(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG, CK_BYTE *, CK_ULONG *);
typedef void (*Other)(void); /* forwarded untouched: the type does not matter */

/* PKCS#11 v2.40's CK_FUNCTION_LIST, in the standard's order (68 functions). */
struct CK_FUNCTION_LIST {
    CK_VERSION version;
    Other C_Initialize, C_Finalize, C_GetInfo;
    GetFunctionList C_GetFunctionList;
    Other C_GetSlotList, C_GetSlotInfo;
    GetTokenInfo C_GetTokenInfo;
    Other C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN;
    OpenSession C_OpenSession;
    CloseSession C_CloseSession;
    Other C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState, C_SetOperationState;
    Login C_Login;
    Other C_Logout, C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize, C_GetAttributeValue,
        C_SetAttributeValue, C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal, C_EncryptInit, C_Encrypt,
        C_EncryptUpdate, C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal, C_DigestInit,
        C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit;
    Sign C_Sign;
    Other C_SignUpdate, C_SignFinal, C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate,
        C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate, C_DecryptDigestUpdate,
        C_SignEncryptUpdate, C_DecryptVerifyUpdate, C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey,
        C_DeriveKey, C_SeedRandom, C_GenerateRandom, C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent;
};

/* A mistake in the list above would forward calls to the wrong functions. */
_Static_assert(sizeof(struct CK_FUNCTION_LIST) == sizeof(void *) * 69, "CK_FUNCTION_LIST: 68 functions");
_Static_assert(__builtin_offsetof(struct CK_FUNCTION_LIST, C_GetTokenInfo) == sizeof(void *) * 7, "C_GetTokenInfo");
_Static_assert(__builtin_offsetof(struct CK_FUNCTION_LIST, C_OpenSession) == sizeof(void *) * 13, "C_OpenSession");
_Static_assert(__builtin_offsetof(struct CK_FUNCTION_LIST, C_CloseSession) == sizeof(void *) * 14, "C_CloseSession");
_Static_assert(__builtin_offsetof(struct CK_FUNCTION_LIST, C_Login) == sizeof(void *) * 19, "C_Login");
_Static_assert(__builtin_offsetof(struct CK_FUNCTION_LIST, C_Sign) == sizeof(void *) * 44, "C_Sign");
_Static_assert(__builtin_offsetof(CK_TOKEN_INFO, flags) == 96, "CK_TOKEN_INFO.flags");

static CK_FUNCTION_LIST *real; /* SoftHSM's own list */
static CK_FUNCTION_LIST ours;  /* a copy, four entries replaced */

/* The value of `key` in the control file, or 0. */
static long control(const char *key) {
    const char *path = getenv("P11SHIM_CONTROL");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[256];
    size_t n = strlen(key);
    long value = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, n) == 0 && line[n] == '=') value = strtol(line + n + 1, NULL, 10);
    }
    fclose(f);
    return value;
}

static void log_line(const char *fmt, ...) {
    const char *path = getenv("P11SHIM_LOG");
    FILE *f = path ? fopen(path, "a") : NULL;
    va_list args;
    if (!f) return;
    va_start(args, fmt);
    vfprintf(f, fmt, args);
    va_end(args);
    fputc('\n', f);
    fclose(f);
}

/* How many lines of the log contain `what`. */
static long logged(const char *what) {
    const char *path = getenv("P11SHIM_LOG");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[256];
    long count = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, what)) count++;
    }
    fclose(f);
    return count;
}

static CK_RV shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO *info) {
    CK_RV rv = real->C_GetTokenInfo(slot, info);
    if (rv == CKR_OK && info && control("P11SHIM_PINPAD")) info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
    return rv;
}

static CK_RV shim_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app, void *notify, CK_SESSION_HANDLE *session) {
    CK_RV rv = real->C_OpenSession(slot, flags, app, notify, session);
    log_line("C_OpenSession rv=0x%lx", rv);
    return rv;
}

static CK_RV shim_CloseSession(CK_SESSION_HANDLE session) {
    CK_RV rv = real->C_CloseSession(session);
    log_line("C_CloseSession rv=0x%lx", rv);
    return rv;
}

static CK_RV shim_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG len) {
    CK_RV rv;
    if (pin == NULL && control("P11SHIM_PINPAD")) {
        /* The keypad's PIN, as the reader's firmware would pass it on. */
        const char *pad = getenv("P11SHIM_PAD_PIN");
        rv = pad ? real->C_Login(session, user, (CK_UTF8CHAR *)pad, strlen(pad)) : CKR_ARGUMENTS_BAD;
    } else {
        rv = real->C_Login(session, user, pin, len);
    }
    log_line("C_Login user=%lu pin=%s rv=0x%lx", user, pin == NULL ? "absent" : "given", rv);
    return rv;
}

static CK_RV shim_Sign(CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG len, CK_BYTE *sig, CK_ULONG *sig_len) {
    CK_RV rv;
    if (sig != NULL && sig_len != NULL && logged("refused=buffer_too_small") < control("P11SHIM_BUFFER_TOO_SMALL")) {
        /* The length SoftHSM needs (a length query leaves the operation active), given
         * back with a refusal although the caller's buffer already has it. */
        CK_ULONG needed = 0;
        rv = real->C_Sign(session, data, len, NULL, &needed);
        if (rv != CKR_OK) return rv;
        *sig_len = needed;
        log_line("C_Sign refused=buffer_too_small");
        return CKR_BUFFER_TOO_SMALL;
    }
    rv = real->C_Sign(session, data, len, sig, sig_len);
    log_line("C_Sign forwarded buffer=%s rv=0x%lx", sig == NULL ? "null" : "given", rv);
    return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list) {
    if (list == NULL) return CKR_ARGUMENTS_BAD;
    if (real == NULL) {
        const char *path = getenv("P11SHIM_MODULE");
        void *lib = dlopen(path && *path ? path : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
        GetFunctionList get = lib ? (GetFunctionList)dlsym(lib, "C_GetFunctionList") : NULL;
        CK_FUNCTION_LIST *theirs = NULL;
        if (get == NULL || get(&theirs) != CKR_OK || theirs == NULL) return CKR_GENERAL_ERROR;
        ours = *theirs;
        ours.C_GetFunctionList = C_GetFunctionList;
        ours.C_GetTokenInfo = shim_GetTokenInfo;
        ours.C_OpenSession = shim_OpenSession;
        ours.C_CloseSession = shim_CloseSession;
        ours.C_Login = shim_Login;
        ours.C_Sign = shim_Sign;
        real = theirs;
    }
    *list = &ours;
    return CKR_OK;
}
