using System.CommandLine;
using Recommend.Cli;

var root = new RootCommand("recommend: query and operate a Recommend server");
foreach (var command in StorefrontCommands.Create()) root.Subcommands.Add(command);
foreach (var command in OperationsCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(BenchCommand.Create());
return await root.Parse(args).InvokeAsync();
