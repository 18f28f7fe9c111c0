fn main() {
    // Windows: the app's manifest (sharp text at any display scale, today's controls).
    let windows = tauri_build::WindowsAttributes::new().app_manifest(include_str!("windows-app-manifest.xml"));
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().windows_attributes(windows)) {
        panic!("tauri-build: {e:#}");
    }
}
