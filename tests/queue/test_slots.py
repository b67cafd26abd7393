"""Host slots shared through PostgreSQL: two "workers" (two FleetSlots, two sessions) in one event loop."""

from __future__ import annotations

import asyncio

from crawler.queue.slots import FleetSlots
from crawler.queue.tables import ensure_schema


async def _slots(url: str, per_host: int) -> FleetSlots:
    slots = FleetSlots(url, per_host)
    await slots.open()
    return slots


def test_two_workers_never_hold_more_than_per_host_slots_of_a_host(postgres: object) -> None:
    url = postgres.database()  # type: ignore[attr-defined]

    async def main() -> int:
        await ensure_schema(url)
        workers = [await _slots(url, 2), await _slots(url, 2)]
        inside, peak = 0, 0

        async def request(slots: FleetSlots) -> None:
            nonlocal inside, peak
            async with slots.hold("b.example"):
                inside += 1
                peak = max(peak, inside)
                await asyncio.sleep(0.01)
                inside -= 1

        await asyncio.gather(*(request(workers[n % 2]) for n in range(40)))
        for slots in workers:
            await slots.close()
        return peak

    assert asyncio.run(main()) == 2


def test_a_dead_workers_slots_are_free_at_once_and_a_cancelled_request_keeps_none(postgres: object) -> None:
    url = postgres.database()  # type: ignore[attr-defined]

    async def main() -> None:
        await ensure_schema(url)
        dying, other = await _slots(url, 1), await _slots(url, 1)
        held = asyncio.Event()

        async def hog() -> None:
            async with dying.hold("a.example"):
                held.set()
                await asyncio.sleep(3600)

        hogging = asyncio.create_task(hog())
        await held.wait()
        waiting = asyncio.create_task(other.hold("a.example").__aenter__())
        await asyncio.sleep(0.3)
        assert not waiting.done(), "two holders of the only slot"
        hogging.cancel()
        await dying.close()  # the session ends, as when a worker is killed
        await asyncio.wait_for(waiting, 2)
        # a request cancelled while it asks leaves no slot behind: the next one gets it
        await other.close()
        other = await _slots(url, 1)
        cancelled = asyncio.create_task(other.hold("c.example").__aenter__())
        await asyncio.sleep(0)
        cancelled.cancel()
        third = await _slots(url, 1)
        async with asyncio.timeout(3):
            async with third.hold("c.example"):
                pass
        await other.close()
        await third.close()

    asyncio.run(main())
