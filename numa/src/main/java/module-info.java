/** NUMA topology, node-local memory and verification of where pages landed. */
module dev.keel.numa {
    requires transitive dev.keel.ffm;

    exports dev.keel.numa;
}
