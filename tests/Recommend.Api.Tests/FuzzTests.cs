using System.Collections;
using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Recommend.Contracts.V1;
using Xunit.Abstractions;

namespace Recommend.Api.Tests;

/// <summary>
/// Seeded fuzzing of every RPC across every field (boundary numbers, hostile strings, oversized and nested values,
/// undefined enums, out-of-range timestamps) plus raw, truncated and bit-flipped payloads. The server must never
/// answer INTERNAL or UNKNOWN, never hang a call, keep serving, keep the data it had and keep its memory bounded.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261201;
    private static readonly int CasesPerRpc = int.TryParse(Environment.GetEnvironmentVariable("RECOMMEND_FUZZ_CASES"), out var n) ? n : 2000;
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static readonly ServiceDescriptor[] Services =
    [
        RecommendationsReflection.Descriptor.Services[0], EventsReflection.Descriptor.Services[0],
        CatalogReflection.Descriptor.Services[0], ExperimentsReflection.Descriptor.Services[0],
    ];

    [Fact]
    public async Task No_request_makes_the_server_fail_hang_lose_data_or_grow_without_bound()
    {
        // Its own process, so that its resident memory is the server's alone (the client builds the oversized payloads).
        await using var host = await HostProcess.StartAsync();
        var recommendations = new Recommendations.RecommendationsClient(host.Channel);
        var catalog = new Catalog.CatalogClient(host.Channel);
        var events = new Events.EventsClient(host.Channel);
        using (var upsert = catalog.UpsertProducts())
        {
            await upsert.RequestStream.WriteAsync(new UpsertProductsRequest
            {
                Products = { RunningHost.Product("keep-1", "RED SPOTTY MUG", 4.5, "Keepsakes"), RunningHost.Product("keep-2", "RED SPOTTY CUP", 12, "Keepsakes") },
            });
            await upsert.RequestStream.CompleteAsync();
            await upsert;
        }
        var kept = new RecordEventsRequest
        {
            Events = { new Event { EventId = "keep-e1", Type = EventType.Purchase, UserId = "keep-u", ProductId = "keep-1", OrderId = "keep-o", Quantity = 1 } },
        };
        await events.RecordEventsAsync(kept);

        var invoker = host.Channel.CreateCallInvoker();
        var random = new Random(Seed);
        var fuzzer = new MessageFuzzer(random);
        var failures = new List<string>();
        var retried = new List<string>();
        var residentBefore = host.ResidentBytes;
        var residentPeak = residentBefore;
        var started = Stopwatch.StartNew();
        var calls = 0;

        foreach (var service in Services)
        {
            foreach (var method in service.Methods)
            {
                var statuses = new Dictionary<StatusCode, int>();
                var slowest = (Case: -1, Elapsed: TimeSpan.Zero, Bytes: 0);
                for (var i = 0; i < CasesPerRpc; i++)
                {
                    var payload = fuzzer.Payload(method.InputType);
                    var timed = Stopwatch.StartNew();
                    // Every call has a deadline; one that still has no status long after it is a hang, reported as one.
                    var status = await WithinWatchdogAsync(CallAsync(invoker, service, method, payload, random));
                    // UNAVAILABLE from the transport (a stream the connection refused or dropped) is what a gRPC client
                    // retries, and so is a deadline missed while the machine stalled (an fsync behind other processes'
                    // writes on a shared CI disk); a payload that makes the server unavailable or hang does so again.
                    if (status is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                    {
                        retried.Add($"{method.Name} case {i}: {status} after {timed.Elapsed.TotalSeconds:0.0} s");
                        status = await WithinWatchdogAsync(CallAsync(invoker, service, method, payload, new Random(i)));
                    }
                    if (timed.Elapsed > slowest.Elapsed) slowest = (i, timed.Elapsed, payload.Length);
                    calls++;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    if (status is StatusCode.Internal or StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unavailable && failures.Count < 20)
                        failures.Add($"{method.FullName} case {i}: {status} for {Convert.ToBase64String(payload.AsSpan(0, Math.Min(payload.Length, 120)))}");
                    if (i % 100 == 0) residentPeak = Math.Max(residentPeak, host.ResidentBytes);
                }
                output.WriteLine($"{method.FullName}: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"))}; slowest case {slowest.Case} {slowest.Elapsed.TotalMilliseconds:0} ms ({slowest.Bytes} bytes); server RSS {host.ResidentBytes >> 20} MB");
            }
        }
        output.WriteLine($"retried once: {(retried.Count == 0 ? "none" : string.Join("; ", retried))}");
        output.WriteLine($"{calls} calls in {started.Elapsed.TotalSeconds:0.0} s; server RSS {residentBefore >> 20} MB before, peak {residentPeak >> 20} MB");

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.False(host.HasExited);
        var health = await new global::Grpc.Health.V1.Health.HealthClient(host.Channel).CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        var product = await catalog.GetProductAsync(new GetProductRequest { ProductId = "keep-1" });
        Assert.Equal(("RED SPOTTY MUG", 4.5, "Keepsakes"), (product.Title, product.Price, product.Category));
        Assert.Equal("RED SPOTTY CUP", (await catalog.GetProductAsync(new GetProductRequest { ProductId = "keep-2" })).Title);
        // Store and live index agree, whatever versions, dimensions and rollbacks the fuzzed calls asked for.
        var served = await catalog.GetServiceStatusAsync(new GetServiceStatusRequest());
        Assert.Equal(served.CatalogProducts, served.IndexedProducts);
        Assert.Equal(1, (await events.RecordEventsAsync(kept)).Duplicates);
        // Bounded: the 4 MB message limit and the field caps keep each request small; nothing accumulates.
        Assert.True(residentPeak < 512L << 20, $"server RSS peaked at {residentPeak >> 20} MB");
    }

    private static async Task<StatusCode> WithinWatchdogAsync(Task<StatusCode> call) =>
        await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(60))) == call ? await call : StatusCode.DeadlineExceeded;

    /// <summary>
    /// Sends a call's request messages; false when a write failed because the call had ended. Either the server had
    /// answered (an answer before the whole request is legal, and the stream reset that follows it reaches a pending
    /// write as CANCELLED, or as INTERNAL when it races the write's frames), or the transport refused the stream
    /// (Kestrel resets the streams of a client that resets thousands of them, with ENHANCE_YOUR_CALM).
    /// </summary>
    private static async Task<bool> WritesAcceptedAsync(Func<Task> writes)
    {
        try
        {
            await writes();
            return true;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException or InvalidOperationException or RpcException)
        {
            return false;
        }
    }

    /// <summary>
    /// After a failed write: the status the server answered with, read from the response; CANCELLED when no answer came
    /// (a status the client made from a transport error carries that error): the server defending itself, not failing.
    /// </summary>
    private static async Task<StatusCode> AnswerAfterFailedWritesAsync(Func<Task> readResponse)
    {
        try
        {
            await readResponse();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.Status.DebugException is null ? e.StatusCode : StatusCode.Cancelled;
        }
    }

    private static async Task<StatusCode> CallAsync(CallInvoker invoker, ServiceDescriptor service, MethodDescriptor method, byte[] payload, Random random)
    {
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(method.IsServerStreaming ? 2 : 15));
        try
        {
            if (method.IsClientStreaming && method.IsServerStreaming)
            {
                // As an importing client does: the next batch goes only after the previous one was acknowledged, so
                // nothing is written into a call the server has already ended.
                using var call = invoker.AsyncDuplexStreamingCall(new Method<byte[], byte[]>(MethodType.DuplexStreaming, service.FullName, method.Name, Bytes, Bytes), null, options);
                var sent = await WritesAcceptedAsync(async () =>
                {
                    await call.RequestStream.WriteAsync(payload);
                    if (random.Next(3) == 0 && await call.ResponseStream.MoveNext()) await call.RequestStream.WriteAsync(payload);
                    await call.RequestStream.CompleteAsync();
                });
                if (!sent) return await AnswerAfterFailedWritesAsync(async () => { while (await call.ResponseStream.MoveNext()) { } });
                while (await call.ResponseStream.MoveNext()) { }
            }
            else if (method.IsClientStreaming)
            {
                using var call = invoker.AsyncClientStreamingCall(new Method<byte[], byte[]>(MethodType.ClientStreaming, service.FullName, method.Name, Bytes, Bytes), null, options);
                var sent = await WritesAcceptedAsync(async () =>
                {
                    await call.RequestStream.WriteAsync(payload);
                    if (random.Next(3) == 0) await call.RequestStream.WriteAsync(payload);
                    await call.RequestStream.CompleteAsync();
                });
                if (!sent) return await AnswerAfterFailedWritesAsync(() => call.ResponseAsync);
                await call;
            }
            else if (method.IsServerStreaming)
            {
                using var call = invoker.AsyncServerStreamingCall(new Method<byte[], byte[]>(MethodType.ServerStreaming, service.FullName, method.Name, Bytes, Bytes), null, options, payload);
                // A watch of a real job may stream until it ends: the first message (or the refusal) is the answer.
                await call.ResponseStream.MoveNext();
            }
            else
            {
                await invoker.AsyncUnaryCall(new Method<byte[], byte[]>(MethodType.Unary, service.FullName, method.Name, Bytes, Bytes), null, options, payload);
            }
            return StatusCode.OK;
        }
        catch (RpcException ex) when (method.IsServerStreaming && ex.StatusCode == StatusCode.DeadlineExceeded)
        {
            return StatusCode.OK; // the stream was open and waiting for progress: not a hang of the call
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    /// <summary>Builds request payloads from the message descriptors, so every field of every request is covered.</summary>
    private sealed class MessageFuzzer(Random random)
    {
        /// <summary>Characters one payload may hold: past the server's 4 MB limit, but nested repeats cannot explode.</summary>
        private const long CharacterBudget = 6_000_000;
        private long _budget;

        private static readonly string[] Strings =
        [
            "", " ", "\0", "\u0000abc", "a\u0001b", "tab\there", "line\nbreak", "\u007f", "\u202eevil", "💥", "\uFFFD", "😀😀😀",
            "ab", "interleaving", "A", "B", "control", "home", "pdp", "Mugs", "REINDEX_MODE_FULL", "full",
            "../../etc/passwd", "/etc/passwd", "/proc/self/environ", "data/recommend.db", "%s%n%x", "' OR 1=1 --", "null", "-1",
            "fuzz-1", "fuzz-2", "fuzz-user", "fuzz-order",
            new string('x', 128), new string('x', 129), new string('y', 4_096), new string('y', 4_097), new string('z', 70_000),
        ];

        private static readonly long[] Integers = [0, 1, -1, 2, 10, 100, 101, 500, 501, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue, 253402300800, -62135596801];
        private static readonly double[] Doubles = [0, -0.0, 1, -1, 0.01, 4.5, 1e308, -1e308, double.NaN, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon];

        public byte[] Payload(MessageDescriptor type)
        {
            _budget = CharacterBudget;
            var valid = Message(type, depth: 0).ToByteArray();
            return random.Next(10) switch
            {
                0 => RandomBytes(random.Next(1, 64)),
                1 when valid.Length > 1 => valid[..random.Next(1, valid.Length)], // truncated
                2 when valid.Length > 0 => Flipped(valid),
                _ => valid,
            };
        }

        private IMessage Message(MessageDescriptor type, int depth)
        {
            var message = type.Parser.ParseFrom(ByteString.Empty);
            foreach (var field in type.Fields.InFieldNumberOrder())
            {
                if (random.Next(3) == 0 || depth > 3) continue;
                if (field.IsMap)
                {
                    var map = (IDictionary)field.Accessor.GetValue(message);
                    var entry = field.MessageType;
                    for (var i = Count(); i > 0; i--) map[Value(entry.FindFieldByNumber(1), depth)!] = Value(entry.FindFieldByNumber(2), depth);
                }
                else if (field.IsRepeated)
                {
                    var list = (IList)field.Accessor.GetValue(message);
                    for (var i = Count(); i > 0; i--) list.Add(Value(field, depth));
                }
                else
                {
                    field.Accessor.SetValue(message, Value(field, depth));
                }
            }
            return message;
        }

        private int Count() => _budget <= 0 ? 0 : random.Next(8) switch { 0 => 0, 1 => random.Next(400, 700), _ => random.Next(1, 4) };

        private object? Value(FieldDescriptor field, int depth) => field.FieldType switch
        {
            FieldType.String => Spend(random.Next(4) == 0 ? RandomText() : Strings[random.Next(Strings.Length)]),
            FieldType.Bytes => ByteString.CopyFrom(RandomBytes(random.Next(0, 32))),
            FieldType.Bool => random.Next(2) == 0,
            FieldType.Double => Doubles[random.Next(Doubles.Length)],
            FieldType.Float => (float)Doubles[random.Next(Doubles.Length)],
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => unchecked((int)Integers[random.Next(Integers.Length)]),
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Integers[random.Next(Integers.Length)],
            FieldType.UInt32 or FieldType.Fixed32 => unchecked((uint)Integers[random.Next(Integers.Length)]),
            FieldType.UInt64 or FieldType.Fixed64 => unchecked((ulong)Integers[random.Next(Integers.Length)]),
            FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, random.Next(-2, field.EnumType.Values.Count + 2)),
            FieldType.Message => Message(field.MessageType, depth + 1),
            _ => throw new InvalidOperationException($"no generator for {field.FieldType}"),
        };

        private string Spend(string text)
        {
            if (_budget <= 0) return "";
            _budget -= text.Length;
            return text;
        }

        private string RandomText()
        {
            var chars = new char[random.Next(0, 40)];
            for (var i = 0; i < chars.Length; i++) chars[i] = (char)random.Next(0x20, 0x3000);
            return new string(chars); // below the surrogate range, so always encodable
        }

        private byte[] RandomBytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        private byte[] Flipped(byte[] valid)
        {
            var copy = (byte[])valid.Clone();
            for (var i = random.Next(1, 4); i > 0; i--) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            return copy;
        }
    }
}
