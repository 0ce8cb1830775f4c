using System.CommandLine;
using Grpc.Core;
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
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(ImportCommands.Create());
root.Subcommands.Add(GenerateCommand.Create());
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (RpcException e)
{
    // The server's answer, not a stack trace: the status names what to fix.
    Console.Error.WriteLine($"error: {e.StatusCode}: {e.Status.Detail}");
    if (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        Console.Error.WriteLine($"hint: set {ServerConnection.ApiKeyVariable} to a key with the scope this command needs");
    return 2;
}
