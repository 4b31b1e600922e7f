using MultiTeacher.Cli;
using MultiTeacher.Runtime;

GlibcAllocator.KeepFreedMemory();
return CliApp.Run(args);
