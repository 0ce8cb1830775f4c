using System.Diagnostics;

namespace Recommend.Cli.Tests;

/// <summary>Runs Recommend.Cli.dll (copied beside the tests by the project reference) with stdin and captures stdout.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string[] Lines, string Errors);

    public static Task<Result> RunAsync(string stdin, params string[] arguments) =>
        RunAsync(new Dictionary<string, string>(), stdin, arguments);

    /// <param name="environment">Variables set for the process (configuration such as Recommend__DataDirectory).</param>
    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, string stdin, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Recommend.Cli.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries), await errors);
    }
}
