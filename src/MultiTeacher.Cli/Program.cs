using MultiTeacher.Cli;
return CliApp.Run(args);
