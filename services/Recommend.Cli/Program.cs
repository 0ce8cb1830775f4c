using System.CommandLine;
using Recommend.Cli;

var root = new RootCommand("recommend: query and operate a Recommend server");
foreach (var command in StorefrontCommands.Create()) root.Subcommands.Add(command);
foreach (var command in OperationsCommands.Create()) root.Subcommands.Add(command);
foreach (var command in EmbeddingCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ReindexCommands.Create());
root.Subcommands.Add(MigrateCommand.Create());
return await root.Parse(args).InvokeAsync();
