; The Windows installer of "Lấy lại mật khẩu BHXH", built on Debian by
; scripts/build-windows.sh with makensis (Debian's nsis): per user, without administrator
; rights, Vietnamese first. Tauri's own NSIS bundler downloads its plugins from GitHub,
; which this machine cannot reach, so the project keeps this script.
;
; Defines from the build script: VERSION (x.y.z), BIN (the folder of the .exe files),
; ICON (the app's .ico), OUTFILE.
;
; What it does:
; - installs bhxh-desktop.exe, WebView2Loader.dll and bhxh.exe (the CLI for support staff)
;   into %LOCALAPPDATA%\Programs\Lấy lại mật khẩu BHXH (no administrator rights needed);
; - a Start-menu entry "Lấy lại mật khẩu BHXH" (Windows search finds it by that name);
; - the version, publisher, size and uninstaller in Apps & Features (HKCU);
; - the WebView2 runtime: present on Windows 11 and an updated Windows 10; otherwise the
;   evergreen bootstrapper is downloaded (PowerShell) and run; when that cannot be done
;   (offline), a clear message and nothing installed (exit code 2);
; - the uninstaller removes every file it installed, the entry, the registration, and
;   the app's own data (settings, installation id, WebView2 cache).

Unicode true
Target amd64-unicode
ManifestDPIAware true
ManifestSupportedOS all
SetCompressor /SOLID lzma
RequestExecutionLevel user

!define PRODUCT "Lấy lại mật khẩu BHXH"
!define PUBLISHER "BHXH — Lấy lại mật khẩu bằng chữ ký số"
!define IDENT "vn.bhxh.recovery"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${IDENT}"
!define WEBVIEW2_GUID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_BOOTSTRAPPER "https://go.microsoft.com/fwlink/p/?LinkId=2124703"
!define HOTLINE "1800 1260"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"
ShowInstDetails show

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=0 "FileDescription" "Bộ cài ${PRODUCT}"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright" "Apache-2.0"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_LANGDLL_ALLLANGUAGES
!define MUI_FINISHPAGE_RUN "$INSTDIR\bhxh-desktop.exe"
!define MUI_FINISHPAGE_RUN_TEXT "$(RunApp)"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; Vietnamese first: the first language is the default and heads the chooser.
!insertmacro MUI_LANGUAGE "Vietnamese"
!insertmacro MUI_LANGUAGE "English"

LangString RunApp ${LANG_VIETNAMESE} "Mở ${PRODUCT}"
LangString RunApp ${LANG_ENGLISH} "Open ${PRODUCT}"
LangString Needs64 ${LANG_VIETNAMESE} "${PRODUCT} cần Windows 64-bit (Windows 10 hoặc 11)."
LangString Needs64 ${LANG_ENGLISH} "${PRODUCT} needs 64-bit Windows (Windows 10 or 11)."
LangString WebView2Check ${LANG_VIETNAMESE} "Kiểm tra Microsoft Edge WebView2 Runtime…"
LangString WebView2Check ${LANG_ENGLISH} "Checking for the Microsoft Edge WebView2 Runtime…"
LangString WebView2Download ${LANG_VIETNAMESE} "Máy chưa có WebView2 Runtime: đang tải và cài từ Microsoft…"
LangString WebView2Download ${LANG_ENGLISH} "The WebView2 Runtime is missing: downloading and installing it from Microsoft…"
LangString WebView2Missing ${LANG_VIETNAMESE} "Không cài được ${PRODUCT}: máy tính chưa có Microsoft Edge WebView2 Runtime (phần hiển thị giao diện của ứng dụng) và không tải được từ Microsoft — có thể máy đang không kết nối Internet.$\r$\n$\r$\nHãy kết nối Internet rồi chạy lại bộ cài này, hoặc nhờ bộ phận IT cài $\"Microsoft Edge WebView2 Runtime$\" (bản Evergreen Standalone). Cần hỗ trợ: gọi tổng đài ${HOTLINE}.$\r$\n$\r$\nChưa có gì được cài lên máy."
LangString WebView2Missing ${LANG_ENGLISH} "${PRODUCT} was not installed: this computer has no Microsoft Edge WebView2 Runtime (which draws the app's window) and it could not be downloaded from Microsoft — the computer may be offline.$\r$\n$\r$\nConnect to the Internet and run this installer again, or ask your IT staff to install the $\"Microsoft Edge WebView2 Runtime$\" (Evergreen Standalone). For help, call ${HOTLINE}.$\r$\n$\r$\nNothing was installed."

Function .onInit
    ${IfNot} ${RunningX64}
        MessageBox MB_ICONSTOP|MB_OK "$(Needs64)" /SD IDOK
        Abort
    ${EndIf}
    StrCpy $LANGUAGE ${LANG_VIETNAMESE}
    !insertmacro MUI_LANGDLL_DISPLAY
FunctionEnd

Function un.onInit
    StrCpy $LANGUAGE ${LANG_VIETNAMESE}
FunctionEnd

; $0: the WebView2 runtime's version, "" when it is not installed (per machine or per user).
Function WebView2Version
    SetRegView 64
    ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
    ${If} $0 == ""
    ${OrIf} $0 == "0.0.0.0"
        ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
    ${EndIf}
    ${If} $0 == "0.0.0.0"
        StrCpy $0 ""
    ${EndIf}
FunctionEnd

Function EnsureWebView2
    DetailPrint "$(WebView2Check)"
    Call WebView2Version
    ${If} $0 != ""
        DetailPrint "WebView2 $0"
        Return
    ${EndIf}
    DetailPrint "$(WebView2Download)"
    InitPluginsDir
    nsExec::ExecToLog 'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12; Invoke-WebRequest -UseBasicParsing -TimeoutSec 60 -Uri ''${WEBVIEW2_BOOTSTRAPPER}'' -OutFile ''$PLUGINSDIR\MicrosoftEdgeWebview2Setup.exe''"'
    Pop $1
    ${If} $1 == 0
    ${AndIf} ${FileExists} "$PLUGINSDIR\MicrosoftEdgeWebview2Setup.exe"
        ExecWait '"$PLUGINSDIR\MicrosoftEdgeWebview2Setup.exe" /silent /install' $1
        Call WebView2Version
        ${If} $0 != ""
            DetailPrint "WebView2 $0"
            Return
        ${EndIf}
    ${EndIf}
    MessageBox MB_ICONSTOP|MB_OK "$(WebView2Missing)" /SD IDOK
    Abort "$(WebView2Missing)"
FunctionEnd

Section "-app"
    ; Before anything is written: an app that cannot draw its window is not installed.
    Call EnsureWebView2
    SetOutPath "$INSTDIR"
    File "${BIN}\bhxh-desktop.exe"
    File "${BIN}\WebView2Loader.dll"
    File "${BIN}\bhxh.exe"
    WriteUninstaller "$INSTDIR\uninstall.exe"
    CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\bhxh-desktop.exe" "" "$INSTDIR\bhxh-desktop.exe" 0 SW_SHOWNORMAL "" "Quên mật khẩu phần mềm BHXH? Cắm token chữ ký số để lấy lại."

    ; Apps & Features.
    WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
    WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
    WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
    WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\bhxh-desktop.exe"
    WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
    WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
    WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
    WriteRegStr HKCU "${UNINST_KEY}" "HelpTelephone" "${HOTLINE}"
    WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
    WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
    ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
    IntFmt $0 "0x%08X" $0
    WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "Uninstall"
    Delete "$INSTDIR\bhxh-desktop.exe"
    Delete "$INSTDIR\WebView2Loader.dll"
    Delete "$INSTDIR\bhxh.exe"
    Delete "$INSTDIR\uninstall.exe"
    RMDir "$INSTDIR"
    Delete "$SMPROGRAMS\${PRODUCT}.lnk"
    ; The app's own data: settings and installation id (roaming), WebView2's cache
    ; (local), the CLI's installation id.
    RMDir /r "$APPDATA\${IDENT}"
    RMDir /r "$LOCALAPPDATA\${IDENT}"
    RMDir /r "$APPDATA\bhxh"
    DeleteRegKey HKCU "${UNINST_KEY}"
SectionEnd
