; Inno Setup 6 script for the Windows installer of CNN Studio.
; packaging/build.py --pack runs it after PyInstaller:
;   iscc /DAppVersion=0.1.0 /DSourceDir=dist\cnnstudio /DOutputDir=dist packaging\windows\cnnstudio.iss
; It installs the one-folder bundle per user (no admin rights needed), adds Start menu and optional
; desktop shortcuts, and registers .cnnproj projects (and, as an "Open with" choice, .onnx models).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\cnnstudio"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6F0B7C1E-3C2A-4F55-9B8E-0C4E5D7A1B21}
AppName=CNN Studio
AppVersion={#AppVersion}
AppPublisher=CNN Studio
DefaultDirName={autopf}\CNN Studio
DefaultGroupName=CNN Studio
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesInstallIn64BitMode=x64compatible
ArchitecturesAllowed=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=cnnstudio-{#AppVersion}-windows-setup
SetupIconFile=..\..\resources\icons\cnnstudio.ico
UninstallDisplayIcon={app}\CNN Studio.exe
Compression=lzma2/ultra64
SolidCompression=yes
ChangesAssociations=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs; Excludes: ".cnnstudio-build-key"

[Icons]
Name: "{group}\CNN Studio"; Filename: "{app}\CNN Studio.exe"
Name: "{group}\{cm:UninstallProgram,CNN Studio}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\CNN Studio"; Filename: "{app}\CNN Studio.exe"; Tasks: desktopicon

[Registry]
; .cnnproj -> CNN Studio project, opened by the windowed executable with the file as its argument
Root: HKA; Subkey: "Software\Classes\.cnnproj"; ValueType: string; ValueName: ""; ValueData: "CNNStudio.Project"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.cnnproj"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-cnnstudio-project"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\CNNStudio.Project"; ValueType: string; ValueName: ""; ValueData: "CNN Studio project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\CNNStudio.Project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\CNN Studio.exe,0"
Root: HKA; Subkey: "Software\Classes\CNNStudio.Project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\CNN Studio.exe"" ""%1"""
; .onnx: offered under "Open with", not taken over
Root: HKA; Subkey: "Software\Classes\.onnx\OpenWithProgids"; ValueType: string; ValueName: "CNNStudio.Model"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\CNNStudio.Model"; ValueType: string; ValueName: ""; ValueData: "ONNX model"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\CNNStudio.Model\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\CNN Studio.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\CNN Studio.exe\SupportedTypes"; ValueType: string; ValueName: ".cnnproj"; ValueData: ""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\CNN Studio.exe\SupportedTypes"; ValueType: string; ValueName: ".onnx"; ValueData: ""

[Run]
Filename: "{app}\CNN Studio.exe"; Description: "{cm:LaunchProgram,CNN Studio}"; Flags: nowait postinstall skipifsilent
