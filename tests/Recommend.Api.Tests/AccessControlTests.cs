using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommend.Api.Composition;
using Recommend.Api.Security;
using Recommend.Contracts.V1;
using StatusCode = Grpc.Core.StatusCode;

namespace Recommend.Api.Tests;

/// <summary>API keys and scopes on every RPC, the loopback-only default, rate limits, audit lines and TLS, on the real host.</summary>
public sealed class AccessControlTests : IAsyncLifetime
{
    private static readonly string[] ScopeNames = ["storefront", "catalog", "experiments", "reports", "admin"];
    private readonly CapturedLogs _logs = new();
    private RunningHost _host = null!;

    private static string KeyOf(string scope) => $"test-key-for-{scope}-0123456789";

    public async Task InitializeAsync()
    {
        var args = new List<string> { "--Logging:LogLevel:Recommend.Audit=Information" };
        for (var i = 0; i < ScopeNames.Length; i++)
        {
            args.Add($"--Recommend:Auth:ApiKeys:{i}:Name={ScopeNames[i]}-client");
            // Half as hashes, half as plain keys: both forms authenticate.
            args.Add(i % 2 == 0 ? $"--Recommend:Auth:ApiKeys:{i}:KeyHash={ApiKeyRing.HashOf(KeyOf(ScopeNames[i]))}" : $"--Recommend:Auth:ApiKeys:{i}:Key={KeyOf(ScopeNames[i])}");
            args.Add($"--Recommend:Auth:ApiKeys:{i}:Scopes:0={ScopeNames[i]}");
        }
        args.Add($"--Recommend:Auth:ApiKeys:{ScopeNames.Length}:Name=throttled");
        args.Add($"--Recommend:Auth:ApiKeys:{ScopeNames.Length}:Key={KeyOf("throttled")}");
        args.Add($"--Recommend:Auth:ApiKeys:{ScopeNames.Length}:Scopes:0=storefront");
        args.Add($"--Recommend:Auth:ApiKeys:{ScopeNames.Length}:RequestsPerSecond=1");
        args.Add("--Recommend:Auth:RateLimit:Burst=3");
        _host = await RunningHost.StartAsync(seedSample: false, dataDirectory: null, waitUntilServing: true,
            builder => builder.Logging.AddProvider(_logs), [.. args]);
        await _host.UpsertProductsWithKeyAsync(KeyOf("admin"), RunningHost.Product("m1", "RED SPOTTY MUG"));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>Every RPC with a request that is valid enough to pass validation, and the scope it needs.</summary>
    private (string Method, string Scope, Func<Metadata, Task> Call)[] Rpcs()
    {
        var r = _host.Recommendations;
        var c = _host.Catalog;
        var x = _host.Experiments;
        return
        [
            ("Recommend", "storefront", m => r.RecommendAsync(new RecommendRequest { UserId = "u" }, m).ResponseAsync),
            ("SimilarProducts", "storefront", m => r.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "m1" }, m).ResponseAsync),
            ("FrequentlyBoughtTogether", "storefront", m => r.FrequentlyBoughtTogetherAsync(new FrequentlyBoughtTogetherRequest { ProductIds = { "m1" } }, m).ResponseAsync),
            ("Trending", "storefront", m => r.TrendingAsync(new TrendingRequest(), m).ResponseAsync),
            ("SearchProducts", "storefront", m => r.SearchProductsAsync(new SearchProductsRequest { Query = "mug" }, m).ResponseAsync),
            ("RecordEvents", "storefront", m => _host.Events.RecordEventsAsync(new RecordEventsRequest
            {
                Events = { new Event { EventId = Guid.NewGuid().ToString(), Type = EventType.View, UserId = "u", ProductId = "m1" } },
            }, m).ResponseAsync),
            ("ImportEvents", "storefront", async m =>
            {
                using var call = _host.Events.ImportEvents(m);
                await WriteThenCompleteAsync(call.RequestStream, new RecordEventsRequest
                {
                    Events = { new Event { EventId = Guid.NewGuid().ToString(), Type = EventType.Purchase, UserId = "u", ProductId = "m1", OrderId = "o" } },
                }, async () => { while (await call.ResponseStream.MoveNext(CancellationToken.None)) { } });
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
            }),
            ("UpsertProducts", "catalog", async m =>
            {
                using var call = c.UpsertProducts(m);
                await WriteThenCompleteAsync(call.RequestStream, new UpsertProductsRequest { Products = { RunningHost.Product("m2", "BLUE MUG") } }, () => call.ResponseAsync);
                await call;
            }),
            ("DeleteProducts", "catalog", m => c.DeleteProductsAsync(new DeleteProductsRequest { ProductIds = { "gone" } }, m).ResponseAsync),
            ("GetProduct", "catalog", m => c.GetProductAsync(new GetProductRequest { ProductId = "m1" }, m).ResponseAsync),
            ("GetServiceStatus", "catalog", m => c.GetServiceStatusAsync(new GetServiceStatusRequest(), m).ResponseAsync),
            ("StartReindex", "catalog", m => c.StartReindexAsync(new StartReindexRequest { Mode = (ReindexMode)99 }, m).ResponseAsync),
            ("WatchReindex", "catalog", async m =>
            {
                using var call = c.WatchReindex(new WatchReindexRequest { JobId = "no-such-job" }, m);
                await call.ResponseStream.MoveNext();
            }),
            ("CancelReindex", "catalog", m => c.CancelReindexAsync(new CancelReindexRequest { JobId = "no-such-job" }, m).ResponseAsync),
            ("GetIndexStatus", "catalog", m => c.GetIndexStatusAsync(new GetIndexStatusRequest(), m).ResponseAsync),
            ("RollbackIndex", "catalog", m => c.RollbackIndexAsync(new RollbackIndexRequest { Version = "no-such-version" }, m).ResponseAsync),
            ("CreateExperiment", "experiments", m => x.CreateExperimentAsync(new CreateExperimentRequest(), m).ResponseAsync),
            ("StartExperiment", "experiments", m => x.StartExperimentAsync(new StartExperimentRequest { ExperimentId = "none" }, m).ResponseAsync),
            ("StopExperiment", "experiments", m => x.StopExperimentAsync(new StopExperimentRequest { ExperimentId = "none" }, m).ResponseAsync),
            ("GetExperiment", "reports", m => x.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "none" }, m).ResponseAsync),
            ("ListExperiments", "reports", m => x.ListExperimentsAsync(new ListExperimentsRequest(), m).ResponseAsync),
            ("GetExperimentReport", "reports", m => x.GetExperimentReportAsync(new GetExperimentReportRequest { ExperimentId = "none" }, m).ResponseAsync),
        ];
    }

    private static bool Grants(string held, string needed) =>
        held == needed || held == "admin" || (held == "experiments" && needed == "reports");

    private static async Task<StatusCode> StatusOfAsync(Func<Metadata, Task> call, Metadata headers)
    {
        try
        {
            await call(headers);
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    /// <summary>
    /// A server that refuses a streaming call may end it while the request is still being written; the write then
    /// fails (CANCELLED, or the call already finished), and the call's own outcome — awaited, since its status may not
    /// be set yet — is the server's answer.
    /// </summary>
    private static async Task WriteThenCompleteAsync<T>(IClientStreamWriter<T> requests, T message, Func<Task> outcome)
    {
        try
        {
            await requests.WriteAsync(message);
            await requests.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException { StatusCode: StatusCode.Cancelled or StatusCode.Unavailable } or InvalidOperationException)
        {
            await outcome();
        }
    }

    [Fact]
    public async Task Every_rpc_refuses_missing_and_wrong_keys_and_keys_without_its_scope_and_serves_keys_with_it()
    {
        var failures = new List<string>();
        foreach (var (method, needed, call) in Rpcs())
        {
            var none = await StatusOfAsync(call, []);
            if (none != StatusCode.Unauthenticated) failures.Add($"{method} without a key: {none}");
            var wrong = await StatusOfAsync(call, new Metadata { { "x-api-key", "not-a-configured-key-000000" } });
            if (wrong != StatusCode.Unauthenticated) failures.Add($"{method} with a wrong key: {wrong}");
            foreach (var scope in ScopeNames)
            {
                // Bearer for one half, x-api-key for the other: both carry the key.
                var headers = scope.Length % 2 == 0
                    ? new Metadata { { "authorization", $"Bearer {KeyOf(scope)}" } }
                    : new Metadata { { "x-api-key", KeyOf(scope) } };
                var status = await StatusOfAsync(call, headers);
                var allowed = Grants(scope, needed);
                if (allowed && status is StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Internal or StatusCode.Unknown)
                    failures.Add($"{method} with scope {scope}: {status}, expected it to run");
                if (!allowed && status != StatusCode.PermissionDenied)
                    failures.Add($"{method} with scope {scope}: {status}, expected PERMISSION_DENIED");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Permission_denied_names_the_scope_needed_in_text_and_in_error_info()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _host.Catalog.DeleteProductsAsync(
            new DeleteProductsRequest { ProductIds = { "m1" } }, new Metadata { { "x-api-key", KeyOf("storefront") } }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("'catalog'", error.Status.Detail);
        Assert.DoesNotContain(KeyOf("storefront"), error.Status.Detail);
        var info = error.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal("MISSING_SCOPE", info.Reason);
        Assert.Equal("catalog", info.Metadata["scope"]);
        Assert.Equal("RED SPOTTY MUG", (await _host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "m1" },
            new Metadata { { "x-api-key", KeyOf("catalog") } })).Title);
    }

    [Fact]
    public async Task Health_and_reflection_stay_open_without_a_key()
    {
        var health = await new Health.HealthClient(_host.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        var reflection = new global::Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(_host.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new global::Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "recommend.v1.Catalog");
    }

    [Fact]
    public async Task A_key_over_its_rate_gets_resource_exhausted_with_a_retry_hint_while_other_keys_are_served()
    {
        var throttled = new Metadata { { "x-api-key", KeyOf("throttled") } };
        RpcException? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            try { await _host.Recommendations.TrendingAsync(new TrendingRequest(), throttled); }
            catch (RpcException ex) { refused = ex; }
        }

        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        var retry = refused.GetRpcStatus()!.GetDetail<RetryInfo>();
        Assert.True(retry.RetryDelay.ToTimeSpan() > TimeSpan.Zero);
        await _host.Recommendations.TrendingAsync(new TrendingRequest(), new Metadata { { "x-api-key", KeyOf("storefront") } });
    }

    [Fact]
    public async Task Catalog_writes_and_experiment_changes_leave_an_audit_line_with_the_key_name_and_never_the_key()
    {
        var catalog = new Metadata { { "x-api-key", KeyOf("catalog") } };
        await _host.UpsertProductsWithKeyAsync(KeyOf("catalog"), RunningHost.Product("a1", "AUDITED MUG"), RunningHost.Product("a2", "AUDITED CUP"));
        await _host.Catalog.DeleteProductsAsync(new DeleteProductsRequest { ProductIds = { "a1", "zz" } }, catalog);
        await Assert.ThrowsAsync<RpcException>(() => _host.Catalog.DeleteProductsAsync(
            new DeleteProductsRequest { ProductIds = { "a2" } }, new Metadata { { "x-api-key", KeyOf("storefront") } }).ResponseAsync);

        var audit = _logs.In("Recommend.Audit").ToList();
        Assert.Contains(audit, l => l.Contains("catalog-client") && l.Contains("recommend.v1.Catalog/UpsertProducts") && l.Contains("upserted=2"));
        Assert.Contains(audit, l => l.Contains("catalog-client") && l.Contains("recommend.v1.Catalog/DeleteProducts") && l.Contains("requested=2 deleted=1"));
        Assert.Contains(audit, l => l.Contains("storefront-client") && l.Contains("DeleteProducts") && l.Contains("denied"));
        Assert.DoesNotContain(_logs.Lines, l => ScopeNames.Any(s => l.Message.Contains(KeyOf(s))));
        Assert.DoesNotContain(audit, l => l.Contains("Recommendations/"));
    }

    [Fact]
    public async Task The_json_api_takes_the_same_keys()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_host.HttpAddress) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/experiments")).StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/experiments");
        request.Headers.Add("x-api-key", KeyOf("reports"));
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/experiments") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeyOf("reports"));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(create)).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_asks_for_a_key_and_shows_experiments_once_given_one()
    {
        var design = ExperimentSimulation.Design("keyed-dash", "home");
        design.Name = "Keyed dashboard experiment";
        await _host.Experiments.CreateExperimentAsync(new CreateExperimentRequest { Experiment = design }, new Metadata { { "x-api-key", KeyOf("experiments") } });

        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new Microsoft.Playwright.BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("RECOMMEND_TEST_CHROMIUM") ?? "/usr/bin/chromium", Headless = true,
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"{_host.HttpAddress}/dashboard/");
        await Microsoft.Playwright.Assertions.Expect(page.Locator("#error")).ToContainTextAsync("API key");

        await page.FillAsync("#api-key", KeyOf("reports"));
        await page.DispatchEventAsync("#api-key", "change");
        await Microsoft.Playwright.Assertions.Expect(page.GetByText("Keyed dashboard experiment").First).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("http://0.0.0.0:0", "http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:0", "http://*:0")]
    public async Task Without_keys_the_host_refuses_to_listen_beyond_loopback_unless_anonymous_is_allowed(string grpc, string http)
    {
        var data = Directory.CreateTempSubdirectory("recommend-auth-").FullName;
        string[] args = [$"--Recommend:Listen={grpc}", $"--Recommend:HttpListen={http}", $"--Recommend:DataDirectory={data}", "--Recommend:SeedSample=false", "--Logging:LogLevel:Default=Warning"];
        try
        {
            var refused = Assert.Throws<OptionsValidationException>(() => RecommendHost.Create(args));
            Assert.Contains("AllowAnonymous", refused.Message);

            await using var app = RecommendHost.Create([.. args, "--Recommend:Auth:AllowAnonymous=true"]);
            await app.StartAsync();
            using var channel = GrpcChannel.ForAddress(app.Services.GetRequiredService<ListenAddresses>().Grpc.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]"));
            var status = await new Catalog.CatalogClient(channel).GetServiceStatusAsync(new GetServiceStatusRequest());
            Assert.Equal(0, status.CatalogProducts);
            await app.StopAsync();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void Malformed_key_configuration_stops_the_host_naming_the_entry()
    {
        var error = Assert.Throws<OptionsValidationException>(() => RecommendHost.Create([
            "--Recommend:Listen=http://127.0.0.1:0", "--Recommend:HttpListen=http://127.0.0.1:0",
            "--Recommend:Auth:ApiKeys:0:Name=bad", "--Recommend:Auth:ApiKeys:0:KeyHash=abc", "--Recommend:Auth:ApiKeys:0:Scopes:0=everything",
        ]));
        Assert.Contains("ApiKeys:0:KeyHash", error.Message);
        Assert.Contains("unknown scope 'everything'", error.Message);
    }

    [Fact]
    public async Task Over_tls_the_host_serves_grpc_and_reports_https_addresses()
    {
        var data = Directory.CreateTempSubdirectory("recommend-tls-").FullName;
        try
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            var certPath = Path.Combine(data, "tls.crt");
            var keyPath = Path.Combine(data, "tls.key");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, rsa.ExportPkcs8PrivateKeyPem());

            await using var app = RecommendHost.Create([
                "--Recommend:Listen=http://127.0.0.1:0", "--Recommend:HttpListen=http://127.0.0.1:0", $"--Recommend:DataDirectory={data}",
                "--Recommend:SeedSample=false", "--Logging:LogLevel:Default=Warning", $"--Recommend:Tls:CertificatePath={certPath}", $"--Recommend:Tls:KeyPath={keyPath}",
            ]);
            await app.StartAsync();
            var addresses = app.Services.GetRequiredService<ListenAddresses>();
            Assert.StartsWith("https://", addresses.Grpc);
            Assert.StartsWith("https://", addresses.Http);

            var thumbprint = certificate.Thumbprint;
            var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint;
            using var channel = GrpcChannel.ForAddress(addresses.Grpc, new GrpcChannelOptions { HttpHandler = handler });
            var status = await new Catalog.CatalogClient(channel).GetServiceStatusAsync(new GetServiceStatusRequest());
            Assert.Equal("sqlite", status.Store);

            using var plain = GrpcChannel.ForAddress(addresses.Grpc.Replace("https://", "http://"));
            await Assert.ThrowsAsync<RpcException>(() => new Catalog.CatalogClient(plain).GetServiceStatusAsync(new GetServiceStatusRequest()).ResponseAsync);
            await app.StopAsync();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
