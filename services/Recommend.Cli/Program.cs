using System.CommandLine;
using Recommend.Cli;
using Spectre.Console;

// Piped output has no terminal width to follow: wide enough that ids and tables do not wrap mid-word.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;

var root = new RootCommand("recommend: query and operate a Recommend server");
foreach (var command in StorefrontCommands.Create()) root.Subcommands.Add(command);
foreach (var command in OperationsCommands.Create()) root.Subcommands.Add(command);
foreach (var command in EmbeddingCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ReindexCommands.Create());
root.Subcommands.Add(ExperimentCommands.Create());
root.Subcommands.Add(MigrateCommand.Create());
return await root.Parse(args).InvokeAsync();
