using MultiTeacher.Cli;
using MultiTeacher.Runtime;

if (SingleArenaLauncher.Relaunch(args) is { } exitCode) return exitCode;
GlibcAllocator.KeepFreedMemory();
return CliApp.Run(args);
