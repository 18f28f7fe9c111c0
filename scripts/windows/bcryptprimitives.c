/* Test rig only, never shipped: Wine 8 has no bcryptprimitives.dll, and Rust's std (since
 * 1.78) takes its random bytes from ProcessPrng there. This DLL, placed beside an .exe
 * run under Wine, gives them through RtlGenRandom (advapi32's SystemFunction036), which
 * Wine implements. Real Windows 10/11 has the DLL; the installer never carries this one.
 * Built with mingw-w64 by the Wine rig (crates/testkit/src/wine.rs) into a prefix's system32
 * and by scripts/build-windows.sh beside bhxh.exe in target/x86_64-pc-windows-gnu/release. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
