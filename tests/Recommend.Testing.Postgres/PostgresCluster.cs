using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Recommend.Testing.Postgres;

/// <summary>
/// A real PostgreSQL server for tests, shared by a test collection: a throwaway cluster in a temp directory on a
/// free loopback port, or the server named by <c>RECOMMEND_TEST_POSTGRES</c> when that is set. Each test asks for
/// its own database, so tests stay independent while paying for one server start.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so when the tests run as root the cluster is created and run as the
/// <c>postgres</c> OS user (which Debian's <c>postgresql-15</c> package creates). Binaries come from <c>PG_BIN</c>
/// or the newest <c>/usr/lib/postgresql/*/bin</c>.
/// </remarks>
public sealed class PostgresCluster : IAsyncLifetime
{
    public const string ServerVariable = "RECOMMEND_TEST_POSTGRES";
    public const string BinariesVariable = "PG_BIN";
    private const string ServiceUser = "postgres";

    private readonly List<string> _databases = [];
    private string? _clusterDirectory;
    private string? _binaries;
    private string _adminConnectionString = "";

    private static bool RunningAsRoot => Environment.UserName == "root";

    /// <summary>
    /// Extra server settings for a throwaway cluster (e.g. <c>shared_buffers=1GB</c> for a benchmark that should not
    /// measure the 128 MB default cache); ignored for a server named by <c>RECOMMEND_TEST_POSTGRES</c>.
    /// </summary>
    public IReadOnlyList<string> ServerSettings { get; init; } = [];

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(ServerVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            _adminConnectionString = external;
            return;
        }

        _binaries = FindBinaries();
        _clusterDirectory = Directory.CreateTempSubdirectory("recommend-pg-").FullName;
        if (RunningAsRoot)
            await RunAsync("chown", [ServiceUser, _clusterDirectory]);

        var data = Path.Combine(_clusterDirectory, "data");
        await RunPgToolAsync("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync");

        // A port found free can be taken before the server binds it; try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeLoopbackPort();
            try
            {
                await RunPgToolAsync("pg_ctl",
                    "start", "-w", "-t", "60", "-D", data, "-l", Path.Combine(_clusterDirectory, "server.log"),
                    "-o", $"-p {port} -c listen_addresses=127.0.0.1 -k {_clusterDirectory} -c fsync=on -c max_connections=300" +
                          string.Concat(ServerSettings.Select(setting => $" -c {setting}")));
                _adminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>Creates an empty database for one test and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        string name;
        lock (_databases)
        {
            name = $"test_{Guid.NewGuid():N}";
            _databases.Add(name);
        }

        await using (var admin = new NpgsqlConnection(_adminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_clusterDirectory is null)
        {
            await DropDatabasesAsync();
            return;
        }

        // Throwaway data: an immediate stop is enough, the directory goes next.
        await RunPgToolAsync("pg_ctl", "stop", "-m", "immediate", "-w", "-D", Path.Combine(_clusterDirectory, "data"));
        Directory.Delete(_clusterDirectory, recursive: true);
    }

    private async Task DropDatabasesAsync()
    {
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync();
        foreach (var name in _databases)
        {
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static string FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable(BinariesVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            return configured;

        const string debianRoot = "/usr/lib/postgresql";
        var newest = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .Select(dir => (Dir: dir, Version: int.TryParse(Path.GetFileName(dir), out var v) ? v : -1))
                .Where(c => File.Exists(Path.Combine(c.Dir, "bin", "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .Select(c => Path.Combine(c.Dir, "bin"))
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            $"No PostgreSQL binaries found: install postgresql-15 (apt), set {BinariesVariable} to its bin directory, " +
            $"or set {ServerVariable} to a connection string of a server to test against.");
    }

    // PostgreSQL's tools refuse to run as root; run them as the service user then.
    private Task RunPgToolAsync(string tool, params IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_binaries!, tool);
        return RunningAsRoot
            ? RunAsync("runuser", ["-u", ServiceUser, "--", path, .. arguments])
            : RunAsync(path, arguments);
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
