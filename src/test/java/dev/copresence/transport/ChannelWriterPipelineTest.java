package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateHandler;

/**
 * When frames may skip the pipeline below the WebSocket encoder and go to the transport: only when
 * nothing down there writes. A TLS handler must see every frame, or clients would read plain bytes.
 */
class ChannelWriterPipelineTest {

    private static ChannelHandlerContext encoder(EmbeddedChannel channel) {
        return channel.pipeline().context(WebSocketFrameEncoder.class);
    }

    @Test
    void framesSkipOnlyReadingHandlersBelowTheEncoder() {
        // the order Vert.x leaves a WebSocket's pipeline in (SocketSink then drops the idle handler):
        // decoder, encoder, idle handler, Vert.x's handler
        EmbeddedChannel channel = new EmbeddedChannel(new WebSocket13FrameDecoder(false, true, 1024),
                new WebSocket13FrameEncoder(false), new IdleStateHandler(0, 0, 30), new ChannelInboundHandlerAdapter());
        assertTrue(ChannelWriter.nothingWritesBelow(channel.pipeline(), encoder(channel)));
    }

    @Test
    void framesStayInThePipelineBelowWhichTlsWrites() throws Exception {
        // a TLS handler of either side is the same outbound handler to the pipeline; a client's needs no certificate
        var tls = SslContextBuilder.forClient().build();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(tls.newHandler(channel.alloc()), new WebSocket13FrameDecoder(false, true, 1024),
                new WebSocket13FrameEncoder(false));
        assertFalse(ChannelWriter.nothingWritesBelow(channel.pipeline(), encoder(channel)));
    }

    @Test
    void aWritingHandlerBelowTheEncoderKeepsFramesInThePipeline() {
        EmbeddedChannel channel = new EmbeddedChannel(new IdleStateHandler(0, 0, 30), new WebSocket13FrameEncoder(false));
        assertFalse(ChannelWriter.nothingWritesBelow(channel.pipeline(), encoder(channel)),
                "the idle handler watches writes: below the encoder it must see them");
    }
}
