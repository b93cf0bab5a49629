import CBulkheadShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Something registered with an event loop that wants readiness events.
/// Always called on the loop's own thread.
package protocol EventLoopHandler: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// One thread running an epoll loop, modelled on SwiftNIO's `SelectableEventLoop`:
/// level-triggered epoll, an eventfd written only when no wakeup is pending, one timerfd
/// re-armed only for an earlier deadline, the fd plus a registration id packed into the
/// event data so a reused fd never receives a closed socket's event.
///
/// It is also a `TaskExecutor`: request handlers run as tasks that prefer this loop, so a
/// handler that does not suspend runs start to finish on the thread that read its request,
/// with no thread hop.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
    // Safe because: every `var` below except `inbox` is touched only on the loop thread
    // (checked in debug builds); `inbox` is protected by its Mutex.

    private struct Inbox {
        var closures: [() -> Void] = []
        var jobs: [UnownedJob] = []
        var wakeupPending = false
        var stopRequested = false
    }

    private struct Registration {
        var id: UInt32
        var handler: EventLoopHandler
    }

    private struct Timer {
        var deadline: UInt64
        var id: UInt64
        var action: () -> Void
    }

    public let index: Int
    private let epfd: Int32
    private let wakeFD: Int32
    private let timerFD: Int32
    private let inbox = Mutex(Inbox())
    private var localJobs: [UnownedJob] = []
    private var localClosures: [() -> Void] = []
    private var registrations: [Registration?] = []
    private var nextRegistrationID: UInt32 = 1
    /// Set by `start` before the thread exists; read by the thread once.
    private var threadName = "event-loop"
    private var timers: [Timer] = []  // binary min-heap on deadline
    private var cancelledTimers: Set<UInt64> = []
    private var nextTimerID: UInt64 = 1
    private var armedDeadline: UInt64 = 0
    /// The loop thread's `pthread_self()`, 0 until it runs.
    private let threadID = Atomic<UInt>(0)
    private let finished = Mutex<[CheckedContinuation<Void, Never>]?>([])

    /// A reusable read buffer for this loop's sockets (one read at a time per thread).
    package let readBuffer: UnsafeMutableRawBufferPointer

    package init(index: Int) throws {
        self.index = index
        epfd = bh_epoll_create()
        guard epfd >= 0 else { throw IOError("epoll_create1", errno: errno) }
        wakeFD = bh_eventfd()
        guard wakeFD >= 0 else { throw IOError("eventfd", errno: errno) }
        timerFD = bh_timerfd_create()
        guard timerFD >= 0 else { throw IOError("timerfd_create", errno: errno) }
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        _ = bh_epoll_ctl(epfd, BH_EPOLL_CTL_ADD, wakeFD, BH_EPOLLIN, UInt64(UInt32(bitPattern: wakeFD)))
        _ = bh_epoll_ctl(epfd, BH_EPOLL_CTL_ADD, timerFD, BH_EPOLLIN, UInt64(UInt32(bitPattern: timerFD)))
    }

    deinit {
        close(epfd)
        close(wakeFD)
        close(timerFD)
        readBuffer.deallocate()
    }

    // MARK: Thread

    package func start(name: String) {
        threadName = name
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let loop = Unmanaged<EventLoop>.fromOpaque(arg).takeRetainedValue()
            // Named so `top -H`, perf and /proc tell loops apart.
            _ = bh_set_thread_name(loop.threadName)
            loop.run()
            return nil
        }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(tid)
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool {
        threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Asks the loop to exit after the current iteration; `waitUntilStopped` returns once it has.
    package func stop() {
        let wake = inbox.withLock { inbox -> Bool in
            inbox.stopRequested = true
            defer { inbox.wakeupPending = true }
            return !inbox.wakeupPending
        }
        if wake { _ = bh_eventfd_write(wakeFD) }
    }

    package func waitUntilStopped() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let alreadyDone = finished.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters?.append(c)
                return false
            }
            if alreadyDone { c.resume() }
        }
    }

    // MARK: Submitting work

    /// Runs `body` on the loop thread: inline if already there, otherwise soon.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if inEventLoop {
            localClosures.append(body)
            return
        }
        let wake = inbox.withLock { inbox -> Bool in
            inbox.closures.append(body)
            defer { inbox.wakeupPending = true }
            return !inbox.wakeupPending
        }
        if wake { _ = bh_eventfd_write(wakeFD) }
    }

    /// Runs `body` on the loop and returns its result.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if inEventLoop { return try body() }
        return try await withCheckedThrowingContinuation { c in
            execute { c.resume(with: Result { try body() }) }
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if inEventLoop {
            localJobs.append(unowned)
            return
        }
        let wake = inbox.withLock { inbox -> Bool in
            inbox.jobs.append(unowned)
            defer { inbox.wakeupPending = true }
            return !inbox.wakeupPending
        }
        if wake { _ = bh_eventfd_write(wakeFD) }
    }

    // MARK: Registration (loop thread only)

    /// Registers `fd` for `events`; returns the registration id to pass to `modify`/`deregister`.
    package func register(fd: Int32, events: UInt32, handler: EventLoopHandler) throws -> UInt32 {
        assert(inEventLoop || threadID.load(ordering: .relaxed) == 0)
        let id = nextRegistrationID
        nextRegistrationID &+= 1
        if nextRegistrationID == 0 { nextRegistrationID = 1 }
        let slot = Int(fd)
        if slot >= registrations.count {
            registrations.append(contentsOf: repeatElement(nil, count: max(slot + 1 - registrations.count, 64)))
        }
        registrations[slot] = Registration(id: id, handler: handler)
        let data = UInt64(UInt32(bitPattern: fd)) | (UInt64(id) << 32)
        if bh_epoll_ctl(epfd, BH_EPOLL_CTL_ADD, fd, events, data) != 0 {
            registrations[slot] = nil
            throw IOError("epoll_ctl(ADD)", errno: errno)
        }
        return id
    }

    package func modify(fd: Int32, registrationID: UInt32, events: UInt32) {
        let data = UInt64(UInt32(bitPattern: fd)) | (UInt64(registrationID) << 32)
        _ = bh_epoll_ctl(epfd, BH_EPOLL_CTL_MOD, fd, events, data)
    }

    package func deregister(fd: Int32) {
        _ = bh_epoll_ctl(epfd, BH_EPOLL_CTL_DEL, fd, 0, 0)
        let slot = Int(fd)
        if slot < registrations.count { registrations[slot] = nil }
    }

    // MARK: Timers (loop thread only)

    /// Schedules `action` at a monotonic deadline (nanoseconds); returns an id for `cancelTimer`.
    @discardableResult
    package func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        let id = nextTimerID
        nextTimerID += 1
        timers.append(Timer(deadline: deadline, id: id, action: action))
        siftUp(timers.count - 1)
        if armedDeadline == 0 || deadline < armedDeadline {
            armedDeadline = deadline
            _ = bh_timerfd_arm(timerFD, deadline)
        }
        return id
    }

    package func cancelTimer(_ id: UInt64) { cancelledTimers.insert(id) }

    /// Monotonic now, in nanoseconds.
    package static var now: UInt64 { bh_monotonic_ns() }

    private func siftUp(_ index: Int) {
        var i = index
        while i > 0 {
            let parent = (i - 1) / 2
            if timers[parent].deadline <= timers[i].deadline { break }
            timers.swapAt(parent, i)
            i = parent
        }
    }

    private func popTimer() -> Timer {
        let top = timers[0]
        let last = timers.removeLast()
        if !timers.isEmpty {
            timers[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < timers.count && timers[l].deadline < timers[m].deadline { m = l }
                if r < timers.count && timers[r].deadline < timers[m].deadline { m = r }
                if m == i { break }
                timers.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    private func runExpiredTimers() {
        _ = bh_timerfd_drain(timerFD)
        let now = EventLoop.now
        while let first = timers.first, first.deadline <= now {
            let timer = popTimer()
            if cancelledTimers.remove(timer.id) != nil { continue }
            timer.action()
        }
        if cancelledTimers.count > 1024 && timers.isEmpty { cancelledTimers.removeAll() }
        armedDeadline = timers.first?.deadline ?? 0
        _ = bh_timerfd_arm(timerFD, armedDeadline)
    }

    // MARK: The loop

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        let maxEvents = 256
        let datas = UnsafeMutablePointer<UInt64>.allocate(capacity: maxEvents)
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: maxEvents)
        defer {
            datas.deallocate()
            events.deallocate()
        }
        var running = true
        while running {
            let hasLocalWork = !localJobs.isEmpty || !localClosures.isEmpty
            let n = bh_epoll_wait(epfd, datas, events, Int32(maxEvents), hasLocalWork ? 0 : -1)
            if n < 0 && errno != EINTR { fatalError("epoll_wait failed: \(errno)") }
            var i = 0
            while i < Int(n) {
                let data = datas[i]
                let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
                let id = UInt32(truncatingIfNeeded: data >> 32)
                if fd == wakeFD {
                    _ = bh_eventfd_drain(wakeFD)
                } else if fd == timerFD {
                    runExpiredTimers()
                } else if Int(fd) < registrations.count, let reg = registrations[Int(fd)], reg.id == id {
                    reg.handler.handleEvents(events[i])
                }
                i += 1
            }
            running = runQueuedWork()
        }
        // Drain what is left so no task stays suspended forever on a stopped loop.
        _ = runQueuedWork()
        let waiters = finished.withLock { w -> [CheckedContinuation<Void, Never>] in
            let all = w ?? []
            w = nil
            return all
        }
        for w in waiters { w.resume() }
    }

    /// Runs queued closures and jobs; bounded so I/O is not starved. Returns false once stop was asked.
    private func runQueuedWork() -> Bool {
        var stop = false
        for _ in 0..<4 {
            let (closures, jobs, stopRequested) = inbox.withLock { inbox in
                defer {
                    inbox.closures.removeAll(keepingCapacity: true)
                    inbox.jobs.removeAll(keepingCapacity: true)
                    inbox.wakeupPending = false
                }
                return (inbox.closures, inbox.jobs, inbox.stopRequested)
            }
            stop = stopRequested
            localClosures.append(contentsOf: closures)
            localJobs.append(contentsOf: jobs)
            if localClosures.isEmpty && localJobs.isEmpty { break }
            let runClosures = localClosures
            localClosures.removeAll(keepingCapacity: true)
            for c in runClosures { c() }
            let runJobs = localJobs
            localJobs.removeAll(keepingCapacity: true)
            let executor = asUnownedTaskExecutor()
            for j in runJobs { j.runSynchronously(on: executor) }
        }
        return !stop
    }
}
