; Inno Setup script for DSCO Desktop: a per-user install (no administrator rights needed), a
; Start menu entry, an optional desktop icon and an uninstaller in "Installed apps".
;
; packaging/build.py runs it after PyInstaller, with the version and folders as defines:
;   iscc /DAppVersion=0.1.0 /DSourceDir="..\dist\DSCO Desktop" /DOutputDir="..\dist" ^
;        packaging\windows\dsco_desktop.iss
; Inno Setup 6 (https://jrsoftware.org/isinfo.php) must be installed; iscc.exe is its compiler.
;
; Uninstalling removes the program files only. The shop's data (database, logs) lives in
; %LOCALAPPDATA%\DSCO Desktop\DSCO Desktop and is kept, so a reinstall or an upgrade loses nothing.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=x.y.z
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\DSCO Desktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif

#define AppName "DSCO Desktop"
#define AppExe "dsco-desktop.exe"

[Setup]
; A fixed AppId makes a newer installer upgrade the installed app instead of adding another.
AppId={{6A1F3C0E-4B7D-4E52-9B7A-2D5C8E1F0A93}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user: installs under %LOCALAPPDATA%\Programs without asking for administrator rights.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=dsco-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\dsco-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{#AppName} (try it with the sandbox)"; Filename: "{app}\{#AppExe}"; Parameters: "--sandbox"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
