// Package webrtc receives the applicant's camera over WebRTC (pion).
//
// Flow: the capture page creates an RTCPeerConnection with a sendonly VP8
// video track and an ordered data channel labelled "guidance", gathers its
// ICE candidates and posts the complete offer. Server.Accept checks the
// offer (package offer, Check: parsable, sends video, offers VP8; only VP8 is
// registered, so the answer keeps VP8 alone), gathers the server's
// candidates and returns the complete answer (non-trickle ICE: no further
// signalling). Per peer, RTP packets are checked (payload type, VP8 payload
// descriptor; anything else is counted and dropped), reassembled into VP8
// frames (samplebuilder), held back until a keyframe, decoded with libvpx
// to packed BGR (webrtc/vpx) and put in a bounded drop-oldest queue. A
// keyframe is requested (RTCP PLI) at the start, after a lost frame (a gap
// in the VP8 picture IDs) and after a decode error. The analysis reads the
// newest frame with Peer.Next, paced to Config.AnalysisFPS, so a slow
// analysis never builds a backlog of stale frames; guidance goes back with
// Peer.Send (JSON) and page messages arrive through Peer.OnMessage.
// A peer ends on ICE failure, disconnection, Config.MaxCaptureTime, Close
// or Server.Close; Peer.Err says which, and Server.Close waits until every
// connection and decoder is freed.
//
// Firewalls and containers:
//   - Config.UDPPortMin/UDPPortMax confine ICE to a UDP port range (open
//     that range, or publish it from the container).
//   - Config.UDPMuxPort serves every peer on one UDP port: one firewall
//     rule, one published container port (it listens on all interfaces).
//   - Config.ICEServers adds STUN (server-reflexive candidates: the public
//     address of a server behind NAT) and TURN (relay, for networks that
//     block UDP); give the capture page the same servers.
//   - LoopbackOnly keeps everything on 127.0.0.1 (tests, a local demo).
//   - DisconnectedTimeout and FailedTimeout decide how fast a vanished
//     browser frees its peer.
package webrtc
