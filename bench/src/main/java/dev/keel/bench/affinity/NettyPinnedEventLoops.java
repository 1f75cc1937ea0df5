package dev.keel.bench.affinity;

import dev.keel.affinity.Affinity;
import dev.keel.affinity.CorePlan;
import dev.keel.affinity.PinnedThreadFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.EventExecutor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Netty 4.2 event loops pinned by keel: {@link PinnedThreadFactory} as the thread factory of a
 * {@link MultiThreadIoEventLoopGroup}, one loop per CPU of a {@link CorePlan}. Netty has no
 * pinning of its own (its users have asked since netty/netty#2381); the group only needs a
 * ThreadFactory, and each thread pins itself before it runs its loop.
 *
 * <p>Run: {@code java -cp ... dev.keel.bench.affinity.NettyPinnedEventLoops [LOOPS]}. Prints the
 * plan, then where each loop's thread runs, read back from inside the loop; exits 1 if any loop
 * is not on its planned CPU.
 */
public final class NettyPinnedEventLoops {
    private NettyPinnedEventLoops() {
    }

    /** One line per event loop: its thread, the CPU it runs on and its mask, as seen from the loop. */
    public static List<String> runOnPinnedLoops(CorePlan plan) throws Exception {
        PinnedThreadFactory factory = new PinnedThreadFactory("netty-loop", plan);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(plan.size(), factory,
                NioIoHandler.newFactory());
        try {
            List<String> lines = new ArrayList<>();
            for (EventExecutor executor : group) {
                EventLoop loop = (EventLoop) executor;
                lines.add(loop.submit(() -> Thread.currentThread().getName() + " cpu " + Affinity.currentCpu()
                        + " mask " + Affinity.currentMask()).get(10, TimeUnit.SECONDS));
            }
            return lines;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    public static void main(String[] args) throws Exception {
        int loops = args.length > 0 ? Integer.parseInt(args[0]) : Math.max(1, Runtime.getRuntime().availableProcessors());
        CorePlan plan = CorePlan.forLoops(loops);
        System.out.print(plan);
        List<String> lines = runOnPinnedLoops(plan);
        boolean ok = true;
        for (int i = 0; i < lines.size(); i++) {
            String expected = "netty-loop-" + i + " cpu " + plan.cpu(i) + " mask " + plan.cpu(i);
            ok &= lines.get(i).equals(expected);
            System.out.println(lines.get(i) + (lines.get(i).equals(expected) ? "" : "   <- expected " + expected));
        }
        System.exit(ok ? 0 : 1);
    }
}
