using System.Diagnostics;
using System.Text.RegularExpressions;
using Grpc.Net.Client;

namespace Recommend.Api.Tests;

/// <summary>
/// The host as its own process (the Recommend.Api.dll beside the tests), for what an in-process host cannot show:
/// the server's own resident memory, apart from the client's.
/// </summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDirectory;

    private HostProcess(Process process, string dataDirectory, string address)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        Address = address;
        Channel = GrpcChannel.ForAddress(address);
    }

    public string Address { get; }

    public GrpcChannel Channel { get; }

    /// <summary>The server's resident set now, in bytes.</summary>
    public long ResidentBytes
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    public bool HasExited => _process.HasExited;

    public static async Task<HostProcess> StartAsync(params string[] extraArgs)
    {
        var data = Directory.CreateTempSubdirectory("recommend-process-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])
        [
            Path.Combine(AppContext.BaseDirectory, "Recommend.Api.dll"),
            "--Recommend:Listen=http://127.0.0.1:0", "--Recommend:HttpListen=http://127.0.0.1:0", $"--Recommend:DataDirectory={data}",
            "--Recommend:SeedSample=false", "--Recommend:Training:InHost=false", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Recommend.Api=Information", .. extraArgs,
        ])
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (GrpcAddress().Match(line) is { Success: true } found)
            {
                _ = DrainAsync(process.StandardOutput);
                return new HostProcess(process, data, found.Groups[1].Value);
            }
        }
        throw new InvalidOperationException("the host process exited before it listened");
    }

    private static async Task DrainAsync(StreamReader output)
    {
        while (await output.ReadLineAsync() is not null) { }
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [GeneratedRegex(@"Recommend gRPC \([^)]*\) listening on (http://\S+)")]
    private static partial Regex GrpcAddress();
}
