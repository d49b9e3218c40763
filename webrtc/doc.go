// Package webrtc receives the applicant's camera over WebRTC (pion): it
// answers the browser's offer (non-trickle ICE: the answer carries every
// candidate), accepts only VP8 video, reassembles RTP into frames
// (samplebuilder), decodes them with libvpx (webrtc/vpx), and hands the
// newest frame to the analysis through a bounded drop-oldest queue, so a
// slow analysis never builds a backlog of stale frames. Guidance goes back
// over the browser's data channel "guidance" as JSON.
//
// Firewalls and containers: Config.UDPPortMin/Max confine ICE to a port
// range; Config.UDPMuxPort serves every peer on one UDP port; ICEServers
// (STUN/TURN) are passed to browsers by the capture page and used here for
// server-reflexive candidates. LoopbackOnly is for tests and local demos.
package webrtc
