using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>Orders at the redirect server: one by one, in bulk (CSV and JSON, all or nothing), their timeline, and tenants.</summary>
public class RedirectOrderTests(RedirectFactory factory) : IClassFixture<RedirectFactory>
{
    [Fact]
    public async Task Order_is_created_listed_moved_cancelled_and_its_timeline_kept()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var profile = await RedirectFactory.ImportProfileAsync(client);
        var other = await RedirectFactory.ImportProfileAsync(client);

        var created = await client.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "FCW2129G02U", nmsProfileId = profile });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var order = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = order.GetProperty("id").GetGuid();
        Assert.Equal("Ordered", order.GetProperty("state").GetString());

        var duplicate = await client.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "FCW2129G02U", nmsProfileId = other });
        await Problem.AssertAsync(duplicate, HttpStatusCode.Conflict);

        var moved = await client.PutAsJsonAsync($"/api/redirect/orders/{id}", new { nmsProfileId = other });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(other, (await moved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("nmsProfileId").GetGuid());

        var cancelled = await client.PostAsync($"/api/redirect/orders/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("Cancelled", (await cancelled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        var again = await Problem.AssertAsync(await client.PostAsync($"/api/redirect/orders/{id}/cancel", null), HttpStatusCode.Conflict);
        Assert.Contains("Cancelled cannot become Cancelled", again.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(await client.PutAsJsonAsync($"/api/redirect/orders/{id}", new { nmsProfileId = profile }), HttpStatusCode.Conflict);

        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/redirect/orders/{id}");
        Assert.Equal(["Ordered", "Cancelled"], detail.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("state").GetString()));

        // A cancelled order no longer holds the serial.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "FCW2129G02U", nmsProfileId = profile })).StatusCode);
        var live = await client.GetFromJsonAsync<JsonElement>("/api/redirect/orders?serial=FCW2129G02U&state=Ordered");
        Assert.Equal(1, live.GetProperty("total").GetInt32());
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/api/redirect/orders?state=cancelled")).GetProperty("total").GetInt32());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"/api/redirect/orders?nmsProfileId={other}&state=Ordered")).GetProperty("total").GetInt32());
        await Problem.AssertValidationAsync(await client.GetAsync("/api/redirect/orders?state=Shipped"), "state");
        await Problem.AssertValidationAsync(await client.GetAsync("/api/redirect/orders?pageSize=0"), "pageSize");
    }

    [Fact]
    public async Task Single_order_with_a_bad_serial_or_unknown_profile_or_device_type_is_a_validation_problem()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var response = await client.PostAsJsonAsync("/api/redirect/orders",
            new { serialNumber = "has space", nmsProfileId = Guid.NewGuid(), deviceTypeId = "x" });
        await Problem.AssertValidationAsync(response, "serialNumber", "nmsProfileId", "deviceTypeId");
        await Problem.AssertValidationAsync(await client.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = new string('A', 129) }), "serialNumber", "nmsProfileId");
    }

    [Fact]
    public async Task Bulk_csv_with_errors_lists_every_bad_line_and_stores_nothing()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var profile = await RedirectFactory.ImportProfileAsync(client);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "EXISTING", nmsProfileId = profile })).StatusCode);
        var csv = new StringBuilder("serialNumber,nmsProfileId,deviceTypeId\n")
            .Append($"GOOD1,{profile},\n")               // line 2: fine
            .Append($"GOOD1,{profile},\n")               // line 3: same serial as line 2
            .Append($"EXISTING,{profile},\n")            // line 4: already ordered
            .Append($"GOOD2,{Guid.NewGuid()},\n")        // line 5: no such profile
            .Append("GOOD3,not-a-uuid,\n")               // line 6
            .Append($"two words,{profile},\n")           // line 7
            .Append($"GOOD4,{profile}\n")                // line 8: missing field
            .Append('\n')
            .Append($"GOOD5,{profile},{Guid.NewGuid()}\n") // line 10: no such device type
            .ToString();

        var response = await client.PostAsync("/api/redirect/orders/bulk", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Equal(["line 10", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8"], errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Contains("also on line 2", errors.GetProperty("line 3")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("already ordered", errors.GetProperty("line 4")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("No NMS profile", errors.GetProperty("line 5")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("Expected 3 fields", errors.GetProperty("line 8")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("No device type", errors.GetProperty("line 10")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("nothing was stored", problem.GetProperty("title").GetString(), StringComparison.Ordinal);

        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/api/redirect/orders")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Bulk_json_creates_all_orders_with_their_timeline_and_bad_items_are_named()
    {
        var (client, _, _) = await factory.SignUpManufacturerAsync();
        var profile = await RedirectFactory.ImportProfileAsync(client);
        var bad = await client.PostAsJsonAsync("/api/redirect/orders/bulk", new object[]
        {
            new { serialNumber = "J1", nmsProfileId = profile },
            new { serialNumber = 42, nmsProfileId = profile },
            "not an object",
        });
        var errors = (await Problem.AssertAsync(bad, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Equal(["item 2", "item 3"], errors.EnumerateObject().Select(e => e.Name));

        var good = await client.PostAsJsonAsync("/api/redirect/orders/bulk", new[]
        {
            new { serialNumber = "J1", nmsProfileId = profile },
            new { serialNumber = "J2", nmsProfileId = profile },
        });
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        Assert.Equal(2, (await good.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/redirect/orders?serial=J2");
        var id = Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid();
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/redirect/orders/{id}");
        Assert.Equal("Ordered", Assert.Single(detail.GetProperty("timeline").EnumerateArray()).GetProperty("state").GetString());

        await Problem.AssertAsync(await client.PostAsync("/api/redirect/orders/bulk", new StringContent("J3", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await Problem.AssertValidationAsync(await client.PostAsync("/api/redirect/orders/bulk", new StringContent("[{", Encoding.UTF8, "application/json")), "body");
        await Problem.AssertValidationAsync(await client.PostAsync("/api/redirect/orders/bulk", new StringContent("serialNumber,nmsProfileId\n", Encoding.UTF8, "text/csv")), "body");
    }

    [Fact]
    public async Task Bulk_of_5000_csv_lines_is_stored_in_one_call_with_a_constant_number_of_database_commands()
    {
        var (client, _, manufacturerId) = await factory.SignUpManufacturerAsync();
        var profile = await RedirectFactory.ImportProfileAsync(client);
        var csv = new StringBuilder("serialNumber,nmsProfileId\n");
        for (var i = 0; i < 5000; i++)
            csv.Append("BULK").Append(i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).Append(',').Append(profile).Append('\n');

        // The host runs in this process: Npgsql's ActivitySource reports every command it sends, tagged with the database.
        var database = new NpgsqlConnectionStringBuilder(factory.ConnectionString).Database!;
        var commands = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TagObjects.Any(t => t.Value is string value && value == database))
                    commands.Enqueue(activity.DisplayName);
            },
        };
        ActivitySource.AddActivityListener(listener);

        var watch = Stopwatch.StartNew();
        var response = await client.PostAsync("/api/redirect/orders/bulk", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        watch.Stop();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(5000, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());
        var statements = commands.Count;
        listener.Dispose();

        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);

        await using var count = dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM redirect.orders WHERE manufacturer_id = $1),
                   (SELECT count(*) FROM redirect.order_events e JOIN redirect.orders o ON o.id = e.order_id WHERE o.manufacturer_id = $1)
            """);
        count.Parameters.AddWithValue(manufacturerId);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(5000, reader.GetInt64(0));
        Assert.Equal(5000, reader.GetInt64(1));
        // A handful of commands (authentication, three checks, the transaction and two COPYs), never one per line.
        Assert.InRange(statements, 1, 20);
        Console.WriteLine($"bulk 5,000 orders (CSV): {watch.ElapsedMilliseconds} ms, {statements} database commands: {string.Join(" | ", commands)}");

        // The same 5,000 again: every line is a per-line conflict, nothing stored twice.
        var again = await client.PostAsync("/api/redirect/orders/bulk", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        var errors = (await Problem.AssertAsync(again, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Equal(1001, errors.EnumerateObject().Count()); // 1,000 lines listed, then "more"
        Assert.Contains("4000 more lines", errors.GetProperty("more")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_manufacturers_profiles_device_types_and_orders_are_404_or_unknown()
    {
        var (alice, _, _) = await factory.SignUpManufacturerAsync("Alice Networks");
        var (bob, _, _) = await factory.SignUpManufacturerAsync("Bob Routers");
        var profile = await RedirectFactory.ImportProfileAsync(alice);
        using var ca = new FactoryCa();
        var type = (await (await alice.PostAsJsonAsync("/api/redirect/device-types", new { name = "T", caPem = ca.Pem, serial = new { source = "SubjectSerialNumber" } }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var order = (await (await alice.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "ALICE1", nmsProfileId = profile, deviceTypeId = type }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/redirect/nms-profiles/{profile}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"/api/redirect/nms-profiles/{profile}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/redirect/device-types/{type}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/redirect/orders/{order}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsync($"/api/redirect/orders/{order}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PutAsJsonAsync($"/api/redirect/orders/{order}", new { nmsProfileId = profile })).StatusCode);
        Assert.Empty((await bob.GetFromJsonAsync<JsonElement[]>("/api/redirect/nms-profiles"))!);
        Assert.Empty((await bob.GetFromJsonAsync<JsonElement[]>("/api/redirect/device-types"))!);
        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>("/api/redirect/orders")).GetProperty("total").GetInt32());

        // Alice's profile and device type do not exist for Bob's orders, singly or in bulk; the same serial is his to order.
        await Problem.AssertValidationAsync(await bob.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "BOB1", nmsProfileId = profile }), "nmsProfileId");
        var bobProfile = await RedirectFactory.ImportProfileAsync(bob);
        await Problem.AssertValidationAsync(await bob.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "BOB1", nmsProfileId = bobProfile, deviceTypeId = type }), "deviceTypeId");
        var bulk = await bob.PostAsync("/api/redirect/orders/bulk", new StringContent($"serialNumber,nmsProfileId\nBOB2,{profile}\n", Encoding.UTF8, "text/csv"));
        await Problem.AssertValidationAsync(bulk, "line 2");
        Assert.Equal(HttpStatusCode.Created, (await bob.PostAsJsonAsync("/api/redirect/orders", new { serialNumber = "ALICE1", nmsProfileId = bobProfile })).StatusCode);

        // Alice's order is untouched.
        Assert.Equal("Ordered", (await alice.GetFromJsonAsync<JsonElement>($"/api/redirect/orders/{order}")).GetProperty("order").GetProperty("state").GetString());
    }
}
