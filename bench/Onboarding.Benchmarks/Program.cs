using BenchmarkDotNet.Running;

// `dotnet run -c Release -- --filter '*'` runs everything; `--filter '*Cipher*'` one class.
BenchmarkSwitcher.FromAssembly(typeof(Onboarding.Benchmarks.PacketCipherBenchmarks).Assembly).Run(args);
