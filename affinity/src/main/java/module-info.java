/** CPU topology as this process may really use it, thread pinning, core plans and CPU reservations. */
module dev.keel.affinity {
    requires dev.keel.ffm;

    exports dev.keel.affinity;
}
